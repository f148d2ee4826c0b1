using System.Net;

namespace Leasehold.Server.Tests.Admin;

/// <summary>The older protocols have no word for a drained path: they answer as for a held one, so their clients try again later.</summary>
public sealed class DrainCompatTests : ServerTestBase
{
    [Fact]
    public async Task Locker_canhaz_under_a_drain_is_refused_and_granted_after_undrain()
    {
        using (var drain = await SendAsync(HttpMethod.Put, "/v1/admin/drains/lab", null))
        {
            Assert.Equal(HttpStatusCode.Created, drain.StatusCode);
        }

        using (var refused = await GetAsync("/canhaz/lab/phone?id=me"))
        {
            // Named "?" as for a path only an earlier waiter wants: nobody holds it.
            Assert.Equal("""{"ok": false, "lockedBy": "?"}""", await refused.Content.ReadAsStringAsync());
        }
        Assert.Empty(HolderIds(await GetResourceAsync("/lab/phone")));

        using (var undrain = await SendAsync(HttpMethod.Delete, "/v1/admin/drains/lab", null))
        {
            Assert.Equal(HttpStatusCode.OK, undrain.StatusCode);
        }
        using var granted = await GetAsync("/canhaz/lab/phone?id=me");
        Assert.StartsWith("""{"ok": true""", await granted.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
