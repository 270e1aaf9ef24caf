"""gunicorn settings for Mamori: ``gunicorn -c config/gunicorn.py config.wsgi`` (docs/deploy.md).

Only what the application depends on is fixed here; bind address and worker count stay on the command line.
The access log goes to standard output, in a format without the query string, through a logger that
redacts every field (config/gunicorn_logging.py): query strings of the hospital API carry identifiers and
search terms, share-link URLs carry their token.
"""

wsgi_app = "config.wsgi:application"
logger_class = "config.gunicorn_logging.RedactingLogger"
accesslog = "-"
access_log_format = '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)s'
