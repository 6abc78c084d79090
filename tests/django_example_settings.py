"""The example project's settings with a test's changes (JSON in ``CFV_SETTINGS_OVERRIDES``; ``null`` deletes a
setting), so each bad configuration can be tried with the real ``manage.py``."""

import json
import os

from mysite.settings import *  # noqa: F403

for _name, _value in json.loads(os.environ.get("CFV_SETTINGS_OVERRIDES", "{}")).items():
    if _value is None:
        globals().pop(_name, None)
    else:
        globals()[_name] = _value
