"""The wizard's steps, one module each, in the order a user meets them: :mod:`.model`, :mod:`.schedule`,
:mod:`.inputs`, :mod:`.output`, :mod:`.access` and :mod:`.tags`, :mod:`.review`, :mod:`.submit`, :mod:`.monitor`.

A step builds its widgets from the shared state and services of :mod:`lookout_nb.wizard` and turns them into
fields of the request; the wizard (:mod:`lookout_nb.wizard.wizard`) puts them in tabs.
"""
