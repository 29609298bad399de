"""The paper in one place: its published figures (``published``), the reference notebook's
computation with its defects kept on purpose (``notebook``, ``notebook_lstm``), the corrected
MVO twins (``corrected``), the MVO replication table (``mvo_table``), ``mode:
notebook_replication`` (``replication_mode``) and REPRODUCTION.md (``reproduction``)."""
