from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def reconciliation_index(request: HttpRequest) -> HttpResponse:
    return render(request, "reconciliation/index.html")
