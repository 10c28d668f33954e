"""crmcli: a terminal-first CRM."""

__version__ = "0.1.0"
