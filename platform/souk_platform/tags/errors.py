"""Errors of the tags and segments domain (the problem ``type`` ends with ``code``)."""

from __future__ import annotations

from souk_platform.core.errors import Conflict, InvalidState, NotFound, Unprocessable


class TagNotFound(NotFound):
    code = "tag-not-found"
    title = "No such tag"


class SegmentNotFound(NotFound):
    code = "segment-not-found"
    title = "No such segment"


class SnapshotNotFound(NotFound):
    code = "segment-snapshot-not-found"
    title = "No such segment snapshot"


class TagImportNotFound(NotFound):
    code = "tag-import-not-found"
    title = "No such tag import"


class DuplicateName(Conflict):
    code = "duplicate-name"
    title = "The name is already used in this shop"


class WrongTagKind(InvalidState):
    code = "wrong-tag-kind"
    title = "This kind of tag does not allow that"


class UnknownCustomers(Unprocessable):
    code = "unknown-customers"
    title = "Some customers do not exist in this shop"


class InvalidCondition(Unprocessable):
    code = "invalid-condition"
    title = "The condition is not valid"


class InvalidImport(Unprocessable):
    code = "invalid-tag-import"
    title = "The CSV cannot be imported"


class TagInUse(Conflict):
    code = "tag-in-use"
    title = "The tag is used by a segment or rule tag"
