from rest_framework.decorators import api_view
from rest_framework.response import Response


@api_view(["GET"])
def me(request):
    """A protected route: who the API token says the caller is, from Django's user table."""
    identities = [{"provider": i.provider, "subject": i.subject} for i in request.user.edgeauth_identities.all()]
    return Response({
        "username": request.user.get_username(),
        "user_id": str(request.user.pk),
        "sub": request.auth["sub"],
        "email": request.user.email,
        "identities": identities,
    })
