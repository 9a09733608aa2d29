"""extractor: structured, grounded records from 法治政府建设 annual reports.

Pipeline (one module per stage): load → normalise → segment → extract (rules | llm)
→ ground → validate → store → review → evaluate. `extractor.pipeline` composes them.
"""

__version__ = "0.1.0"
