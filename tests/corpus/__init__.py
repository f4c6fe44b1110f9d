"""Bad-input corpus of the importer (issue 7): hostile real-world exports, each with its expected
outcome. ``cases.py`` defines the cases, ``make_corpus.py`` writes them to a folder, and
``tests/test_corpus.py`` imports each one and checks the outcome."""
