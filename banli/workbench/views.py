"""The workbench: each role's page of work to do."""
from django.contrib.auth.decorators import login_required
from django.shortcuts import render


@login_required
def home(request):
    return render(request, "workbench/home.html")
