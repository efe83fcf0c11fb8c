from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def exception_list(request: HttpRequest) -> HttpResponse:
    return render(request, "exceptions_app/exception_list.html")
