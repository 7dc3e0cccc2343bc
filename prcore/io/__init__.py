"""Files or Python objects -> validated columns (the input layer).

``schema`` states what is valid (pydantic, for located errors), ``load`` turns
input into columns and maps ids to dense indices, ``results_scan`` and
``coco_scan`` are the byte-level fast paths behind it.
"""
