"""The service's one port: routing (:mod:`.server`), SigV4 (:mod:`.auth`), the start-up gate (:mod:`.ready`), the
Lookout JSON 1.0 protocol (:mod:`.protocol`) and the clock API (:mod:`.control`). It may import api/, storage/,
state/ and clock; nothing below imports it."""
