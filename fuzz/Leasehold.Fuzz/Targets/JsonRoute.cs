namespace Leasehold.Fuzz.Targets;

/// <summary>The routes that read a JSON body.</summary>
public enum JsonRoute
{
    /// <summary><c>POST /v1/leases</c>.</summary>
    Acquire,

    /// <summary><c>POST /v1/leases/{id}/renew</c>.</summary>
    Renew,

    /// <summary><c>POST /v1/sessions</c>.</summary>
    Session,

    /// <summary><c>PUT /v1/resources/{path}</c>.</summary>
    Declare,
}

/// <summary>One JSON request: the route and the body's bytes.</summary>
public sealed record JsonRequest(JsonRoute Route, byte[] Body)
{
    public override string ToString() => $"{Route} {Printing.Text(Body)}";
}
