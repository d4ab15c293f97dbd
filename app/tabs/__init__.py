"""The app's tabs, one module each with a ``build()`` that lays out and wires the tab inside
the enclosing ``gr.Tab``: ``restore``, ``compare``, ``tradeoff`` (the midpoint trade-off) and
``ecg``. ``app.py`` assembles them.
"""
