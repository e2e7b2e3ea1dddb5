"""A document that takes the renderer a while to draw: for tests of the renderer process (in
this process, and in a service process of its own started with `python -c`)."""

from services.contracts.document import Column, Document, Table


def a_long_document(rows=3000) -> Document:
    return Document("长表", None, [("说明", "渲染需要一点时间")], [
        Table("名单", [Column("no", "序号", "int"), Column("name", "姓名")],
              [{"no": i, "name": f"党员{i}"} for i in range(rows)])])
