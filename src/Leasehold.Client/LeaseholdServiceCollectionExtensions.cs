using Leasehold.Client;
using Microsoft.Extensions.Options;

namespace Microsoft.Extensions.DependencyInjection;

/// <summary>Registers <see cref="LeaseholdClient"/> the usual Microsoft.Extensions way.</summary>
public static class LeaseholdServiceCollectionExtensions
{
    /// <summary>
    /// Adds a typed <see cref="LeaseholdClient"/> (its <see cref="HttpClient"/> from the factory) configured by
    /// <paramref name="configure"/>; bind options from configuration with
    /// <c>services.Configure&lt;LeaseholdClientOptions&gt;(configuration.GetSection("Leasehold"))</c>.
    /// A <see cref="TimeProvider"/> registered in <paramref name="services"/> becomes <see cref="LeaseholdClientOptions.TimeProvider"/>
    /// unless the options set another.
    /// </summary>
    /// <example>
    /// <code>
    /// services.AddLeaseholdClient(o => o.Server = new Uri("http://locks.internal:8765"));
    /// </code>
    /// </example>
    public static IHttpClientBuilder AddLeaseholdClient(this IServiceCollection services, Action<LeaseholdClientOptions>? configure = null)
    {
        var options = services.AddOptions<LeaseholdClientOptions>();
        if (configure is not null)
        {
            options.Configure(configure);
        }
        // A TimeProvider registered in the container (a fake one in tests) is the client's clock, unless the options name another.
        options.PostConfigure<IServiceProvider>((o, provider) =>
        {
            if (ReferenceEquals(o.TimeProvider ?? TimeProvider.System, TimeProvider.System) && provider.GetService<TimeProvider>() is { } time)
            {
                o.TimeProvider = time;
            }
        });
        // The primary handler carries the TLS settings (trusted authorities, client certificate) of the options.
        return services.AddHttpClient<LeaseholdClient>()
            .ConfigurePrimaryHttpMessageHandler(provider => ClientTls.CreateHandler(provider.GetRequiredService<IOptions<LeaseholdClientOptions>>().Value));
    }
}
