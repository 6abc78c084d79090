"""Django integration: add ``"cfvariants.django"`` to ``INSTALLED_APPS`` and ``{% load cfvariants %}``.

Configuration: ``settings.CFVARIANTS`` (see ``cfvariants.django._conf``), falling back to the environment. This
package imports nothing from Django until one of its modules is used, so ``import cfvariants`` never needs Django.
"""
