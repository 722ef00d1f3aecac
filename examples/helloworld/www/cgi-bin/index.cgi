#!/bin/sh
# The lesson's Flask app, as a CGI script for busybox httpd: the page for "/".
printf 'Content-Type: text/html\r\n\r\n'
echo "<h3>Hello ${NAME:-world}!</h3><b>Hostname:</b> $(hostname)<br/>"
