using System.Buffers;
using Leasehold.Core.Pools;

namespace Leasehold.Storage;

/// <summary>
/// The optional trailer of a command record: the pool choices the engine made when it applied the command
/// (<see cref="Leasehold.Core.Command.Choices"/>). Records written before choices were logged end without
/// it, and any command may carry it: an addition that needed no new log version.
/// </summary>
public static partial class CommandCodec
{
    private static void WriteChoices(IBufferWriter<byte> w, PoolChoice[] choices)
    {
        BinaryOut.Int32(w, choices.Length);
        foreach (var choice in choices)
        {
            BinaryOut.Int64(w, choice.WaiterId);
            BinaryOut.Byte(w, (byte)choice.Decision);
            BinaryOut.Int32(w, choice.Pass);
            BinaryOut.Int32(w, choice.Chosen.Length);
            foreach (var group in choice.Chosen)
            {
                BinaryOut.Int32(w, group.Length);
                foreach (var position in group)
                {
                    BinaryOut.Int32(w, position);
                }
            }
            BinaryOut.Int32(w, choice.Candidates.Length);
            w.Write(choice.Candidates);
        }
    }

    private static PoolChoice[] ReadChoices(ref BinaryIn r)
    {
        // Each choice takes at least 21 bytes: waiter id, decision, pass, two counts.
        var choices = new PoolChoice[r.Count(21)];
        for (var i = 0; i < choices.Length; i++)
        {
            var waiterId = r.Int64();
            var decision = r.Byte() is var d && d <= (byte)PoolDecision.Reused
                ? (PoolDecision)d
                : throw new FormatException($"{d} is not a pool decision");
            var pass = r.Int32();
            var chosen = new int[r.Count(4)][];
            for (var g = 0; g < chosen.Length; g++)
            {
                chosen[g] = new int[r.Count(4)];
                for (var k = 0; k < chosen[g].Length; k++)
                {
                    chosen[g][k] = r.Int32();
                }
            }
            choices[i] = new PoolChoice(waiterId, decision, pass, chosen, r.Bytes(r.Count(1)));
        }
        return choices;
    }
}
