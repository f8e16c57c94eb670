using System.Globalization;
using System.Text;

namespace TransparencyLog.Sigstore.Json;

/// <summary>
/// ECMAScript <c>Number.prototype.toString()</c> for finite doubles (ECMA-262 §6.1.6.1.20), as RFC 8785 requires.
/// </summary>
internal static class EcmaScriptNumber
{
    public static string Format(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new FormatException("NaN and Infinity have no JSON representation");
        }

        // -0 prints as "0" in JavaScript.
        if (value == 0)
        {
            return "0";
        }

        if (value < 0)
        {
            return "-" + Format(-value);
        }

        // "R" yields the shortest digit string that round-trips (the same digits ECMAScript chooses);
        // "E16" would give 17 significant digits, which is wrong for values like 0.1.
        var (digits, exponent) = Decompose(value.ToString("R", CultureInfo.InvariantCulture));

        // ECMAScript names: k = number of digits, n = position of the decimal point (value = 0.digits × 10^n).
        var k = digits.Length;
        var n = exponent;
        var builder = new StringBuilder();
        if (k <= n && n <= 21)
        {
            builder.Append(digits).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            builder.Append(digits, 0, n).Append('.').Append(digits, n, k - n);
        }
        else if (-6 < n && n <= 0)
        {
            builder.Append("0.").Append('0', -n).Append(digits);
        }
        else
        {
            var e = n - 1;
            builder.Append(digits[0]);
            if (k > 1)
            {
                builder.Append('.').Append(digits, 1, k - 1);
            }

            builder.Append('e').Append(e < 0 ? '-' : '+').Append(Math.Abs(e).ToString(CultureInfo.InvariantCulture));
        }

        return builder.ToString();
    }

    /// <summary>Splits .NET's round-trip text into significant digits (no leading/trailing zeros) and n.</summary>
    private static (string Digits, int N) Decompose(string roundTrip)
    {
        var exponent = 0;
        var mantissa = roundTrip;
        var e = roundTrip.IndexOfAny(['E', 'e']);
        if (e >= 0)
        {
            exponent = int.Parse(roundTrip.AsSpan(e + 1), NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            mantissa = roundTrip[..e];
        }

        var dot = mantissa.IndexOf('.', StringComparison.Ordinal);
        var integerPart = dot >= 0 ? mantissa[..dot] : mantissa;
        var fractionPart = dot >= 0 ? mantissa[(dot + 1)..] : string.Empty;
        var all = integerPart + fractionPart;
        var pointPosition = integerPart.Length + exponent;

        var leading = 0;
        while (leading < all.Length - 1 && all[leading] == '0')
        {
            leading++;
        }

        all = all[leading..];
        pointPosition -= leading;
        all = all.TrimEnd('0');
        return (all.Length == 0 ? "0" : all, pointPosition);
    }
}
