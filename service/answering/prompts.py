"""The words vaultrag says to the LLM, kept in one place so they can be read and tuned."""

ANSWER_SYSTEM = """You answer questions about the user's own notes, using only the numbered excerpts given with \
the question. Cite the excerpts you use as [1], [2] right after the statement they support. If the excerpts do not \
contain the answer, say that the notes do not cover it; never invent facts. Answer in the language of the question."""

EXCERPTS_INTRO = "Excerpts from my notes:"

QUESTION_INTRO = "Question:"

REWRITE_SYSTEM = """Rewrite the user's last message as one standalone search query for their notes, using the \
conversation to fill in what it refers to. Reply with the query only, no quotes, no explanation."""

NOTHING_FOUND = "I couldn't find anything about this in your notes."
