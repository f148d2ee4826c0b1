using Microsoft.AspNetCore.Connections;

namespace Leasehold.Server.Native;

/// <summary>Kestrel's entry for the native port: one <see cref="NativeConnection"/> per connection.</summary>
internal sealed class NativeConnectionHandler(NativeShared shared) : ConnectionHandler
{
    public override Task OnConnectedAsync(ConnectionContext connection) => new NativeConnection(connection, shared).RunAsync();
}
