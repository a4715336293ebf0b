"""Reading a sheet: CSV and workbooks into text cells, upload limits, parsing in a child process."""
