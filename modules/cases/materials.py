"""申请材料: what an applicant hands in — an upload, or an e-license in its place (免证办).

A material the catalog marks as issued by a government body with an e-license type may be
given as one of the applicant's e-licenses instead of a scan. The wallet (``wallet.licenses``)
checks that the applicant holds it, that it is valid and authentic, records the use as a grant
to the handling department for this item (in the holder's audit list) and returns a verified,
masked copy; the copy is kept on the case, so staff see verified license data instead of paper.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from gateway.context import Context
from gateway.errors import BadUserInput, FieldError, Unavailable
from gateway.kit.calendar import now_cst
from modules.affairs.interface import CatalogItem, CatalogMaterial
from modules.wallet.interface import LICENSES, HeldLicenses, LicenseUnusable

__all__ = ["USE_DAYS", "Given", "collect"]

#: How long the department may read a license used for a case: a case's legal limit is at
#: most 60 working days, plus delivery; after that the grant lapses in the holder's wallet.
USE_DAYS = 120


@dataclass(frozen=True)
class Given:
    """One material as the applicant gave it: exactly one of an upload or an e-license."""

    name: str
    file_id: str | None = None
    license_id: str | None = None


async def collect(
    ctx: Context, citizen: str, item: CatalogItem | None, given: list[Given]
) -> list[dict[str, Any]]:
    """Each given material checked and its stored shape built; refuses unknown names, files
    that are not the applicant's, and e-licenses the wallet will not vouch for (each named)."""
    by_name = {m.name: m for m in item.materials} if item else {}
    files = await ctx.uploads.by_ids([g.file_id for g in given if g.file_id])
    provided: list[dict[str, Any]] = []
    errors: list[FieldError] = []
    for n, g in enumerate(given):
        material = by_name.get(g.name)
        if item is None or material is None:
            errors.append(FieldError(f"materials.{n}.name", "not an item material", "unknown"))
        elif (g.file_id is None) == (g.license_id is None):
            errors.append(
                FieldError(f"materials.{n}", "give exactly one of fileId and licenseId", "one_of")
            )
        elif g.file_id is not None:
            record = files.get(g.file_id)
            if record is None or record.get("owner") != citizen:
                errors.append(
                    FieldError(f"materials.{n}.fileId", "not one of your uploads", "not_yours")
                )
            else:
                provided.append({"name": g.name, "file_id": g.file_id, "kind": record.get("kind")})
        else:
            field = f"materials.{n}.licenseId"
            used = await _use_license(ctx, citizen, item, material, str(g.license_id), field)
            if isinstance(used, FieldError):
                errors.append(used)
            else:
                provided.append(used)
    if errors:
        raise BadUserInput("材料无效 (invalid materials)", errors)
    return provided


async def _use_license(
    ctx: Context,
    citizen: str,
    item: CatalogItem,
    material: CatalogMaterial,
    license_id: str,
    field: str,
) -> dict[str, Any] | FieldError:
    """The material's stored shape with the wallet's verified copy, or why not."""
    if not material.license_type:
        return FieldError(field, "this material has no e-license", "no_license")
    try:
        copy = await _wallet(ctx).use_for_case(
            citizen,
            license_id,
            license_type=material.license_type,
            department_code=item.department_code,
            purpose=item.name,
            until=now_cst().replace(microsecond=0) + timedelta(days=USE_DAYS),
        )
    except LicenseUnusable as refused:
        return FieldError(field, refused.message, refused.code.lower())
    return {
        "name": material.name,
        "file_id": f"license:{license_id}",
        "kind": "e_license",
        "license": asdict(copy),
    }


def _wallet(ctx: Context) -> HeldLicenses:
    try:
        return ctx.interface(LICENSES, HeldLicenses)  # type: ignore[type-abstract]
    except LookupError:
        raise Unavailable("电子证照暂不可用，请上传材料 (the wallet is not available)") from None
