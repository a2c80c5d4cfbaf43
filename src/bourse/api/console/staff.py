"""The console's staff section (being built)."""

from fastapi import APIRouter

from bourse.api.console.web import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)
