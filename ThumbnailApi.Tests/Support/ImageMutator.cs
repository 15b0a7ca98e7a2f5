namespace ThumbnailApi.Tests.Support;

/// <summary>
/// Deterministic damage to a file's bytes, the way broken uploads and fuzzers damage them: bit
/// flips, overwritten, inserted and deleted bytes, truncation, header fields set to extremes, and a
/// chunk copied over another place. Case <c>n</c> of seed <c>s</c> is always the same mutation.
/// </summary>
public static class ImageMutator
{
    private static readonly byte[] InterestingBytes = [0x00, 0x01, 0x7F, 0x80, 0xFE, 0xFF];

    private static readonly uint[] InterestingWords = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0x8000, 0xFFFF, 0x10000, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF];

    /// <summary>The mutated bytes of case <paramref name="caseNumber"/> and a description of what was done.</summary>
    public static (byte[] Bytes, string Mutation) Mutate(byte[] original, int seed, int caseNumber)
    {
        var random = new Random(unchecked(seed * 1_000_003 + caseNumber * 7_919));
        var bytes = new List<byte>(original);
        var steps = 1 + (random.Next(4) == 0 ? random.Next(1, 4) : 0);
        var done = new List<string>(steps);
        for (var i = 0; i < steps; i++)
        {
            done.Add(MutateOnce(bytes, random));
        }

        return (bytes.ToArray(), string.Join(" + ", done));
    }

    private static string MutateOnce(List<byte> bytes, Random random)
    {
        if (bytes.Count == 0)
        {
            var added = random.Next(1, 16);
            bytes.AddRange(Enumerable.Range(0, added).Select(_ => (byte)random.Next(256)));
            return $"fill {added} random bytes";
        }

        // Headers are where parsers make their decisions: aim half of the damage at the first 256 bytes.
        int Position() => random.Next(2) == 0 ? random.Next(Math.Min(bytes.Count, 256)) : random.Next(bytes.Count);

        switch (random.Next(8))
        {
            case 0:
            {
                var flips = random.Next(1, 9);
                for (var i = 0; i < flips; i++)
                {
                    var at = Position();
                    bytes[at] ^= (byte)(1 << random.Next(8));
                }

                return $"flip {flips} bits";
            }

            case 1:
            {
                var at = Position();
                var length = Math.Min(random.Next(1, 33), bytes.Count - at);
                for (var i = 0; i < length; i++)
                {
                    bytes[at + i] = (byte)random.Next(256);
                }

                return $"overwrite {length} bytes at {at}";
            }

            case 2:
            {
                var at = random.Next(bytes.Count + 1);
                var length = random.Next(1, 65);
                bytes.InsertRange(at, Enumerable.Range(0, length).Select(_ => random.Next(3) == 0 ? (byte)0xFF : (byte)random.Next(256)));
                return $"insert {length} bytes at {at}";
            }

            case 3:
            {
                var at = Position();
                var length = Math.Min(random.Next(1, 257), bytes.Count - at);
                bytes.RemoveRange(at, length);
                return $"delete {length} bytes at {at}";
            }

            case 4:
            {
                var keep = random.Next(bytes.Count);
                bytes.RemoveRange(keep, bytes.Count - keep);
                return $"truncate to {keep} bytes";
            }

            case 5:
            {
                var at = random.Next(Math.Min(bytes.Count, 256));
                bytes[at] = InterestingBytes[random.Next(InterestingBytes.Length)];
                return $"header byte {at} = 0x{bytes[at]:X2}";
            }

            case 6:
            {
                var width = random.Next(2) == 0 ? 2 : 4;
                var at = random.Next(Math.Min(bytes.Count, 256));
                var value = InterestingWords[random.Next(InterestingWords.Length)];
                var bigEndian = random.Next(2) == 0;
                for (var i = 0; i < width && at + i < bytes.Count; i++)
                {
                    var shift = 8 * (bigEndian ? width - 1 - i : i);
                    bytes[at + i] = (byte)(value >> shift);
                }

                return $"header {(bigEndian ? "BE" : "LE")}{width * 8} at {at} = 0x{value:X}";
            }

            default:
            {
                var from = random.Next(bytes.Count);
                var length = Math.Min(random.Next(1, 513), bytes.Count - from);
                var to = random.Next(bytes.Count);
                var chunk = bytes.GetRange(from, length);
                for (var i = 0; i < length && to + i < bytes.Count; i++)
                {
                    bytes[to + i] = chunk[i];
                }

                return $"copy {length} bytes from {from} to {to}";
            }
        }
    }
}
