"""Who published a report: the registry's names, places and the rules that resolve a printed
name to one publisher. Pure: knows nothing of Scrapy or the catalogue."""
