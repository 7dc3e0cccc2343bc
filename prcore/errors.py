"""One error vocabulary: bad input names the file, the record, the field."""

from __future__ import annotations


class PrcoreInputError(ValueError):
    """Invalid user input, located precisely.

    Attributes
    ----------
    file : str or None
        The file (or ``"<ground truth>"`` / ``"<detections>"`` for objects).
    index : int or None
        Index of the offending record in its list.
    record_id : object or None
        The record's id, when it has one.
    field : str or None
        The offending field, e.g. ``"bbox"`` or ``"annotations[3].area"``.
    expected : str
        What was expected, and what was found.
    """

    def __init__(
        self,
        expected: str,
        *,
        file: str | None = None,
        section: str | None = None,
        index: int | None = None,
        record_id: object = None,
        field: str | None = None,
        id_name: str = "id",
    ) -> None:
        self.id_name = id_name
        self.file = file
        self.section = section
        self.index = index
        self.record_id = record_id
        self.field = field
        self.expected = expected
        super().__init__(self._format())

    def _format(self) -> str:
        parts = []
        if self.file is not None:
            parts.append(str(self.file))
        where = ""
        if self.section is not None:
            where = self.section
        if self.index is not None:
            where += f"[{self.index}]" if where else f"record {self.index}"
        if self.record_id is not None:
            where += f" ({self.id_name} {self.record_id})"
        if where:
            parts.append(where)
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        parts.append(self.expected)
        return ": ".join(parts)


class PrcoreWarning(UserWarning):
    """Input that pycocotools scores silently in a surprising way."""
