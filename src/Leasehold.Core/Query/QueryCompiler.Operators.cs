using System.Text.Json;

namespace Leasehold.Core.Query;

/// <summary>The operators: each checks its argument once and becomes one matcher node.</summary>
internal static partial class QueryCompiler
{
    private static Matcher CompileOperator(string op, JsonElement argument, string location, int depthLeft)
    {
        var where = Where(location);
        switch (op)
        {
            case "$eq":
                return new EqualsMatcher(Literal(argument, location, depthLeft));
            case "$ne":
                return new NotMatcher(new EqualsMatcher(Literal(argument, location, depthLeft)));
            case "$gt":
                return Compare(Comparison.Greater, argument, location, depthLeft);
            case "$gte":
                return Compare(Comparison.GreaterOrEqual, argument, location, depthLeft);
            case "$lt":
                return Compare(Comparison.Less, argument, location, depthLeft);
            case "$lte":
                return Compare(Comparison.LessOrEqual, argument, location, depthLeft);
            case "$in":
                return new InMatcher(Literals(op, argument, location, depthLeft));
            case "$nin":
                return new NotMatcher(new InMatcher(Literals(op, argument, location, depthLeft)));
            case "$and":
                return new AndMatcher(Conditions(op, argument, location, depthLeft));
            case "$or":
                return new OrMatcher(Conditions(op, argument, location, depthLeft));
            case "$nor":
                return new NorMatcher(Conditions(op, argument, location, depthLeft));
            case "$not":
                return new NotMatcher(Not(argument, location, depthLeft));
            case "$exists":
                return new ValueExistsMatcher(ExistsArgument(argument, location));
            case "$type":
                return JsonTypeNames.TryResolve(argument, out var types)
                    ? new TypeMatcher(types)
                    : throw new QueryCompileException($"$type: unknown type {argument.GetRawText()} at {where}");
            case "$mod":
                return Mod(argument, where);
            case "$regex":
                return argument.ValueKind == JsonValueKind.String
                    ? new RegexMatcher(RegexPattern.Compile(argument.GetString()!, op, where))
                    : throw new QueryCompileException($"$regex takes a string at {where}");
            case "$all":
                return All(argument, location, depthLeft);
            case "$elemMatch":
                return argument.ValueKind == JsonValueKind.Object
                    ? new ElemMatchMatcher(CompileObject(argument, Child(location, op), depthLeft))
                    : throw new QueryCompileException($"$elemMatch takes an object at {where}");
            case "$size":
                // mongoquery insists on a Python int; a JSON 2.0 would be a float there.
                return argument.ValueKind == JsonValueKind.Number && argument.TryGetInt64(out var size) && size >= 0
                    ? new SizeMatcher(size)
                    : throw new QueryCompileException($"$size takes a whole number at {where}");
            case "$comment":
                return AlwaysMatcher.Instance;
            case "$options" or "$text" or "$where" or "$expr":
                // mongoquery raises NotImplementedError for the first three; $expr is left out on purpose.
                throw new QueryCompileException($"{op} is not supported at {where}");
            default:
                throw new QueryCompileException($"unknown operator '{op}' at {where}");
        }
    }

    // Python cannot order anything against null, an array or an object, so such a literal matches nothing.
    private static Matcher Compare(Comparison comparison, JsonElement argument, string location, int depthLeft)
    {
        var operand = Literal(argument, location, depthLeft);
        return operand.Number is not null || operand.String is not null
            ? new ComparisonMatcher(comparison, operand)
            : NeverMatcher.Instance;
    }

    private static Constant[] Literals(string op, JsonElement argument, string location, int depthLeft)
    {
        if (argument.ValueKind != JsonValueKind.Array)
        {
            throw new QueryCompileException($"{op} takes an array at {Where(location)}");
        }
        return [.. argument.EnumerateArray().Select(item => Literal(item, location, depthLeft))];
    }

    // $and/$or/$nor: a non-empty list of condition objects, each applied to the same value.
    private static Matcher[] Conditions(string op, JsonElement argument, string location, int depthLeft)
    {
        if (argument.ValueKind != JsonValueKind.Array || argument.GetArrayLength() == 0
            || argument.EnumerateArray().Any(item => item.ValueKind != JsonValueKind.Object))
        {
            throw new QueryCompileException($"{op} takes a non-empty array of query objects at {Where(location)}");
        }
        return [.. argument.EnumerateArray().Select((item, i) => CompileObject(item, Item(location, op, i), depthLeft))];
    }

    // $not: an operator object, or (as a string) a regular expression, both as MongoDB allows.
    private static Matcher Not(JsonElement argument, string location, int depthLeft) => argument.ValueKind switch
    {
        JsonValueKind.Object => CompileObject(argument, Child(location, "$not"), depthLeft),
        JsonValueKind.String => new RegexMatcher(RegexPattern.Compile(argument.GetString()!, "$not", Where(location))),
        _ => throw new QueryCompileException($"$not takes an operator object or a regex at {Where(location)}"),
    };

    private static bool ExistsArgument(JsonElement argument, string location) => argument.ValueKind switch
    {
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new QueryCompileException($"$exists takes true or false at {Where(location)}"),
    };

    private static Matcher Mod(JsonElement argument, string where)
    {
        if (argument.ValueKind != JsonValueKind.Array || argument.GetArrayLength() != 2
            || argument[0].ValueKind != JsonValueKind.Number || argument[1].ValueKind != JsonValueKind.Number)
        {
            throw new QueryCompileException($"$mod takes [divisor, remainder] (two numbers) at {where}");
        }
        PyNumber.TryFrom(argument[0], out var divisor);
        PyNumber.TryFrom(argument[1], out var remainder);
        return divisor.IsZero
            ? throw new QueryCompileException($"$mod: the divisor must not be zero at {where}")
            : new ModMatcher(divisor, remainder);
    }

    // $all: every item holds, each read as a field condition (a plain value or a condition object such
    // as {"$elemMatch": ...}). An empty list matches everything, as in mongoquery.
    private static Matcher All(JsonElement argument, string location, int depthLeft)
    {
        if (argument.ValueKind != JsonValueKind.Array)
        {
            throw new QueryCompileException($"$all takes an array at {Where(location)}");
        }
        var items = argument.EnumerateArray().Select((item, i) => CompileCondition(item, Item(location, "$all", i), depthLeft));
        return AllOf([.. items]);
    }
}
