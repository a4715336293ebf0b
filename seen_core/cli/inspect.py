"""`inspect FILE`: the sheets, the header found, the columns and the suggested mapping."""

from __future__ import annotations

import argparse

from seen_core.cli.options import (
    EXIT_OK,
    add_sheet_options,
    print_json,
    printable,
    read_sheet,
    where,
)


def add_parser(commands: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = commands.add_parser("inspect", help="show sheets, header, columns and the mapping")
    add_sheet_options(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    return p


def run(args: argparse.Namespace) -> int:
    sheet = read_sheet(args)
    from seen_core import flow  # once the file is read: see load_the_rest_meanwhile

    mapping = flow.mapping_for(sheet)
    if args.json:
        print_json(
            {
                "sheets": sheet.sheet_names,
                "sheet": sheet.sheet_name,
                "header_row": sheet.header_row,
                "columns": sheet.columns,
                "rows": sheet.rows,
                "mapping": mapping.to_dict(),
            }
        )
        return EXIT_OK
    if sheet.sheet_names:
        print(printable(f"Sheets: {', '.join(sheet.sheet_names)}"))
    blank = f" ({sheet.blank_rows} blank rows skipped)" if sheet.blank_rows else ""
    print(where(sheet) + blank)
    print("Mapping:")
    for name, column in mapping.fields.items():
        print(printable(f"  {name:<12} ← {column}"))
    for key, column in mapping.extra_args.items():
        print(printable(f"  extra_args.{key} ← {column}"))
    return EXIT_OK
