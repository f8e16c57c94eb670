using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;

namespace TransparencyLog.LogService.Explorer;

/// <summary>
/// Writes an HTML document. Every text and attribute value passes through <see cref="HtmlEncoder"/>: values from
/// submitted entries (emails, URIs, subjects) can never become markup. Tag and attribute names are constants of this
/// code, never data. No inline script or style is ever written (the Content-Security-Policy forbids both).
/// </summary>
internal sealed class Html
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Default;
    private readonly StringBuilder _out = new(16 * 1024);

    /// <summary>Opens an element; <paramref name="attributes"/> are name/value pairs, a null value omits the pair.</summary>
    public Html Open(string tag, params (string Name, string? Value)[] attributes)
    {
        _out.Append('<').Append(tag);
        foreach (var (name, value) in attributes)
        {
            if (value is null)
            {
                continue;
            }

            _out.Append(' ').Append(name).Append("=\"");
            Encoder.Encode(new StringWriter(_out, CultureInfo.InvariantCulture), value);
            _out.Append('"');
        }

        _out.Append('>');
        return this;
    }

    public Html Close(string tag)
    {
        _out.Append("</").Append(tag).Append('>');
        return this;
    }

    /// <summary>An element holding only text.</summary>
    public Html Element(string tag, string? text, params (string Name, string? Value)[] attributes) =>
        Open(tag, attributes).Text(text).Close(tag);

    /// <summary>A void element (<c>input</c>, <c>meta</c>, <c>link</c>).</summary>
    public Html Void(string tag, params (string Name, string? Value)[] attributes) => Open(tag, attributes);

    public Html Text(string? text)
    {
        if (!string.IsNullOrEmpty(text))
        {
            Encoder.Encode(new StringWriter(_out, CultureInfo.InvariantCulture), text);
        }

        return this;
    }

    public Html Link(string href, string text, params (string Name, string? Value)[] attributes) =>
        Open("a", [("href", href), .. attributes]).Text(text).Close("a");

    /// <summary>A definition-list row: a term and its value as text.</summary>
    public Html Row(string term, string? value, string? valueClass = null)
    {
        Element("dt", term);
        return Element("dd", value ?? "—", ("class", valueClass));
    }

    public Html Doctype()
    {
        _out.Append("<!DOCTYPE html>");
        return this;
    }

    public override string ToString() => _out.ToString();
}
