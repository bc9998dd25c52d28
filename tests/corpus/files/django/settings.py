import os

DEBUG = False
ALLOWED_HOSTS = ["shop.acme-corp.io"]
SECRET_KEY = 'o#vs&15^ea%+f&4%mh86tu@*z!nsx@=7e@w*(!=8p6gqs9)ar9'
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "shop",
        "USER": "shop",
        "PASSWORD": os.environ["DB_PASSWORD"],
        "HOST": "db",
    }
}
AUTH_PASSWORD_VALIDATORS = [{"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"}]
