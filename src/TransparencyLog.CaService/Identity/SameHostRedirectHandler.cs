using System.Net;

namespace TransparencyLog.CaService.Identity;

/// <summary>
/// Follows redirects of discovery and JWKS fetches only within the same scheme, host and port (Fulcio #2354: a
/// cross-host redirect lets whoever controls the first host substitute the keys, and is an SSRF primitive).
/// The inner handler must not follow redirects itself.
/// </summary>
internal sealed class SameHostRedirectHandler : DelegatingHandler
{
    private const int MaxRedirects = 3;

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var origin = request.RequestUri ?? throw new InvalidOperationException("request has no URI");
        var response = await base.SendAsync(request, cancellationToken);
        for (var i = 0; i < MaxRedirects && IsRedirect(response.StatusCode); i++)
        {
            var location = response.Headers.Location;
            if (location is null)
            {
                return response;
            }

            var target = location.IsAbsoluteUri ? location : new Uri(request.RequestUri ?? origin, location);
            if (Uri.Compare(target, origin, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) != 0)
            {
                response.Dispose();
                throw new HttpRequestException($"refused a redirect from {origin.GetLeftPart(UriPartial.Authority)} to another host");
            }

            response.Dispose();
            request = new HttpRequestMessage(HttpMethod.Get, target);
            response = await base.SendAsync(request, cancellationToken);
        }

        return response;
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;
}
