#!/usr/bin/env python3
"""The demo project's manage.py: runs edgeauth_django from this checkout, uninstalled."""
import os
import sys
from pathlib import Path

if __name__ == "__main__":
    # examples/django holds the edgeauth_django package; an installed copy is not needed.
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "demo.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
