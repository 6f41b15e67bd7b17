"""Write the OpenAPI document to openapi.json, or with --check fail when it has drifted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Export the API's OpenAPI document to openapi.json (--check: fail on drift)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true")
        parser.add_argument("--path", default=str(Path(settings.BASE_DIR) / "openapi.json"))

    def handle(self, *args: Any, **options: Any) -> None:
        from agora.api import api

        document = json.dumps(
            api.get_openapi_schema(path_prefix="/api/"),
            indent=2,
            ensure_ascii=False,
            sort_keys=True,
        )
        path = Path(options["path"])
        if options["check"]:
            current = path.read_text(encoding="utf-8") if path.exists() else ""
            if current.strip() != document.strip():
                hint = "run `python manage.py export_openapi` and commit it"
                raise CommandError(f"{path.name} is out of date: {hint}")
            self.stdout.write(f"{path.name} is up to date")
            return
        path.write_text(document + "\n", encoding="utf-8")
        self.stdout.write(f"wrote {path}")
