"""The chapters of the book, one package each: its study (driver), findings (what the chapter reads) and figures."""
