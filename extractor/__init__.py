"""extractor: structured, grounded records from 法治政府建设 annual reports.

Pipeline (one module per stage): load → normalise → segment → extract (rules | llm)
→ ground → validate → store → review → evaluate. `extractor.pipeline` composes them; each stage is a package whose `__init__` exposes its entry.
"""

__version__ = "0.1.0"
