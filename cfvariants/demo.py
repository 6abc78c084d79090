"""A short tour of the core, printed (the reference app replaces this as `python3 dev.py run`)."""

from __future__ import annotations

from . import Delivery, parse_url

DEMO_HASH = "ZWd9g1K7eljCn_KDTu_MWA"
DEMO_ID = "083eb7b2-5392-4565-b69e-aff66acddd00"


def main() -> None:
    cf = Delivery(DEMO_HASH, signing_key="example-signing-key-123")
    print("named variant   ", cf.url(DEMO_ID, "avatar"))
    print("flexible        ", cf.url(DEMO_ID, "fit=cover,w=200,h=200"))
    print("from keywords   ", cf.url(DEMO_ID, width=640, fit="scale-down", quality=80))
    print("signed          ", cf.signed_url(DEMO_ID, "public", expires_in=3600))
    print("srcset          ", cf.srcset(DEMO_ID, widths=(320, 640, 960), fit="cover"))
    print("img tag         ", cf.img(DEMO_ID, "w=640,h=360,fit=cover", alt="A demo", widths=(320, 640)))
    print("parsed          ", parse_url(cf.url(DEMO_ID, "w=200")))


if __name__ == "__main__":
    main()
