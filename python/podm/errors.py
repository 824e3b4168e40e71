"""The exceptions podm raises besides Python's own (TypeError, ValueError for bad arguments)."""


class ModelError(Exception):
    """A model that does not compile: a syntax or sema error, or one found when lowering it.

    ``str(e)`` is the compiler's full rendering (``file:line:col: error: message``, the source
    line and a caret). The first error is also in the attributes; ``diagnostics`` holds them all
    (errors first, then warnings and notes) as dicts with the same keys.
    """

    def __init__(self, text, diagnostics=()):
        super().__init__(text)
        self.diagnostics = list(diagnostics)
        first = self.diagnostics[0] if self.diagnostics else {}
        self.file = first.get("file")
        self.line = first.get("line") or None
        self.column = first.get("column") or None
        self.message = first.get("message", text)
        self.caret = first.get("caret", "")
