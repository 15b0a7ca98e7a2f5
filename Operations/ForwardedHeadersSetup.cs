using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace ThumbnailApi.Operations;

/// <summary>
/// Which reverse proxies the service believes about the client: X-Forwarded-For, X-Forwarded-Proto
/// and X-Forwarded-Host are applied (ASP.NET Core's ForwardedHeaders middleware) only on connections
/// from an address in <see cref="ServiceOptions.KnownProxies"/> or a range in
/// <see cref="ServiceOptions.KnownNetworks"/>. With neither set (the default) the headers are ignored
/// from everyone: the client is the connection's address, and the links in responses use the Host
/// and scheme of the request itself.
/// <para>
/// Behind a trusted proxy the connection's address becomes the real client's, so the rate limit and
/// the per-client cap on uploads in progress count each client, not the proxy. Only the last entry of
/// X-Forwarded-For is read (ForwardLimit 1): the address the proxy itself appended (nginx's
/// <c>$proxy_add_x_forwarded_for</c>). What a client wrote into the header is to the left of it and is
/// never taken, even when the address nginx saw is itself inside a trusted network (Docker's gateway
/// is inside 172.16.0.0/12, for one): reading further would let such a client choose its own key.
/// </para>
/// </summary>
public static class ForwardedHeadersSetup
{
    public static IServiceCollection AddTrustedProxies(this IServiceCollection services)
    {
        services.AddOptions<ForwardedHeadersOptions>()
            .Configure<IOptions<ServiceOptions>>((forwarded, options) => Apply(forwarded, options.Value));
        return services;
    }

    /// <summary>Sets the middleware's options from the service's settings (which were validated at start-up).</summary>
    public static void Apply(ForwardedHeadersOptions forwarded, ServiceOptions options)
    {
        // ASP.NET Core trusts loopback by default, and with both lists empty it would trust everyone:
        // neither is what an operator who configured nothing expects.
        forwarded.KnownProxies.Clear();
        forwarded.KnownIPNetworks.Clear();
        foreach (var proxy in options.KnownProxies)
        {
            forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        }

        foreach (var network in options.KnownNetworks)
        {
            forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
        }

        if (forwarded.KnownProxies.Count == 0 && forwarded.KnownIPNetworks.Count == 0)
        {
            forwarded.ForwardedHeaders = ForwardedHeaders.None;
            return;
        }

        forwarded.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto | ForwardedHeaders.XForwardedHost;
        forwarded.ForwardLimit = 1; // one proxy in front of the service (see the class summary)
    }

    /// <summary>True for an IP address written out in full (IPv4 as four decimal numbers; "10" or "010.0.0.1" are not taken).</summary>
    public static bool IsAddress(string text) =>
        IPAddress.TryParse(text, out var address)
        && (address.AddressFamily != AddressFamily.InterNetwork || address.ToString() == text);

    /// <summary>True for a network in CIDR notation whose address has no bits set past the prefix (172.16.0.0/12, fd00::/8).</summary>
    public static bool IsNetwork(string text)
    {
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash <= 0 || !IsAddress(text[..slash]) || !System.Net.IPNetwork.TryParse(text, out var network))
        {
            return false;
        }

        // IPNetwork.TryParse takes "10.0.0.5/8" as 10.0.0.0/8: refuse it, the operator meant something else.
        var bytes = IPAddress.Parse(text[..slash]).GetAddressBytes();
        for (var bit = network.PrefixLength; bit < bytes.Length * 8; bit++)
        {
            if ((bytes[bit / 8] & (0x80 >> (bit % 8))) != 0)
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Every entry of a list setting passes <paramref name="isValid"/>; otherwise the message names the
/// setting, the entry and <paramref name="expected"/>.
/// </summary>
public abstract class ListEntriesAttribute(Func<string, bool> isValid, string expected) : ValidationAttribute
{
    protected override ValidationResult? IsValid(object? value, ValidationContext context)
    {
        foreach (var entry in value as IEnumerable<string> ?? [])
        {
            if (!isValid(entry))
            {
                return new ValidationResult($"ThumbnailApi:{context.MemberName} has \"{entry}\", which is {expected}.", [context.MemberName!]);
            }
        }

        return ValidationResult.Success;
    }
}

/// <summary>Every entry of the list is an IP address.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IPAddressListAttribute() : ListEntriesAttribute(
    ForwardedHeadersSetup.IsAddress,
    "not an IP address (like 10.0.0.5 or fd00::5; a range goes in KnownNetworks)");

/// <summary>Every entry of the list is a network in CIDR notation.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class IPNetworkListAttribute() : ListEntriesAttribute(
    ForwardedHeadersSetup.IsNetwork,
    "not a network in CIDR notation (like 172.16.0.0/12: an address, a slash and a prefix length, with no address bits set past the prefix)");
