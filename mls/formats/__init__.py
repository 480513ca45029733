"""MLS's own date formats per language (settings.FORMAT_MODULE_PATH), on top of Django's.

Templates name a format (`|date:"SHORT_DATETIME_FORMAT"`) instead of spelling one (`|date:"j M Y H:i"`), so a
German page reads "03.02.2027 14:30" where an English one reads "3 Feb 2027 14:30". Only the names a template
uses explicitly are set here; DATE_FORMAT and DATETIME_FORMAT (what an unfiltered date prints) stay Django's.
"""
