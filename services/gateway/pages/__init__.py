"""The admin pages' HTML, built on the server as strings: `markup` (escaping by construction and
the report tables), `charts` (bar charts as inline SVG), `views` (each page). No templates, no
scripts, no files from elsewhere: a page is one response that a browser shows as it is."""
