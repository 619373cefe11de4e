from django.conf import settings


def portal(request):
    return {
        "platform_name": settings.YIWANG_PLATFORM_NAME,
        "large_text": request.COOKIES.get("yiwang_large_text") == "1",
    }
