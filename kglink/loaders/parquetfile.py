"""Read one extract file written as Parquet (`persons.parquet` in place of `persons.csv`),
for large extracts on shared storage.

The rows go through exactly the validation of CSV rows (kglink/loaders/extract.py): each
value is taken as the text the CSV would hold — strings as they are, numbers and dates as
Arrow writes them as text (a date as YYYY-MM-DD), a null as an empty cell. Row numbers
count the data rows from 2, as a CSV's lines do below its header, so a reject names the
same row in either form of one extract. A column Arrow cannot turn into text (binary,
lists, structs) refuses the file, naming the column. Needs pyarrow (the `parquet` or
`spark` extra).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from kglink.loaders.csvfile import FileRefused, Row, open_regular

BATCH_ROWS = 50_000


def parquet_rows(path: Path) -> tuple[list[str], Iterator[Row]]:
    """(header, rows) of a Parquet file, every value as text."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq
    except ImportError:
        raise FileRefused(f"{path} is Parquet, and reading Parquet needs pyarrow. "
                          "Install it with pip install 'kglink[parquet]', or export the file as CSV") from None
    fh = open_regular(path, binary=True)
    try:
        pf = pq.ParquetFile(fh)
    except (pa.ArrowException, OSError) as e:
        fh.close()
        raise FileRefused(f"{path} cannot be read as Parquet ({type(e).__name__}). "
                          "Re-export it") from None
    schema = pf.schema_arrow
    header = list(schema.names)
    for f in schema:
        if not (pa.types.is_string(f.type) or pa.types.is_large_string(f.type) or pa.types.is_null(f.type)
                or pa.types.is_integer(f.type) or pa.types.is_floating(f.type) or pa.types.is_boolean(f.type)
                or pa.types.is_date(f.type) or pa.types.is_timestamp(f.type) or pa.types.is_decimal(f.type)):
            fh.close()
            raise FileRefused(f"{path}: column {f.name} is {f.type}, which is not text. "
                              "Write it as a string column")

    def read() -> Iterator[Row]:
        line = 1
        try:
            for batch in pf.iter_batches(batch_size=BATCH_ROWS):
                cols = [pc.fill_null(pc.cast(c, pa.string()), "").to_pylist() for c in batch.columns]
                for values in zip(*cols):
                    line += 1
                    yield Row(line, list(values))
        finally:
            fh.close()
    return header, read()


def parquet_row_count(path: Path) -> int:
    """Rows in a Parquet file from its footer (0 if it cannot be read: reading it says why)."""
    try:
        import pyarrow.parquet as pq

        with open_regular(path, binary=True) as fh:
            return int(pq.ParquetFile(fh).metadata.num_rows)
    except Exception:
        return 0
