// A small JSON reader and writer for the test runners (the JVM has none built in, and the tests
// need no dependency beyond the bindings' own). Objects are LinkedHashMap<String, Any?>, arrays
// List<Any?>, integers Long (BigInteger beyond), other numbers Double.
package dev.sessionkit.tests

import java.math.BigDecimal
import java.math.BigInteger

object Json {
    fun parse(text: String): Any? {
        val reader = Reader(text)
        reader.ws()
        val value = reader.value()
        reader.ws()
        require(reader.pos == text.length) { "trailing characters at ${reader.pos}" }
        return value
    }

    /** Compact JSON with object keys sorted, as serde_json writes a value. */
    fun write(value: Any?): String = StringBuilder().also { write(value, it) }.toString()

    private fun write(value: Any?, out: StringBuilder) {
        when (value) {
            null -> out.append("null")
            is Boolean -> out.append(value)
            is String -> string(value, out)
            is Long, is Int, is BigInteger -> out.append(value.toString())
            is ULong, is UInt -> out.append(value.toString())
            is Double -> {
                require(value.isFinite()) { "JSON has no $value" }
                out.append(value.toString())
            }
            is Map<*, *> -> {
                out.append('{')
                value.entries.sortedBy { it.key as String }.forEachIndexed { i, (k, v) ->
                    if (i > 0) out.append(',')
                    string(k as String, out)
                    out.append(':')
                    write(v, out)
                }
                out.append('}')
            }
            is List<*> -> {
                out.append('[')
                value.forEachIndexed { i, v ->
                    if (i > 0) out.append(',')
                    write(v, out)
                }
                out.append(']')
            }
            else -> throw IllegalArgumentException("not a JSON value: ${value::class}")
        }
    }

    private fun string(s: String, out: StringBuilder) {
        out.append('"')
        for (c in s) {
            when {
                c == '"' -> out.append("\\\"")
                c == '\\' -> out.append("\\\\")
                c == '\n' -> out.append("\\n")
                c == '\r' -> out.append("\\r")
                c == '\t' -> out.append("\\t")
                c < ' ' -> out.append(String.format("\\u%04x", c.code))
                else -> out.append(c)
            }
        }
        out.append('"')
    }

    /** The JSON type name used by the `$type` matcher. */
    fun typeName(v: Any?): String = when (v) {
        null -> "null"
        is Boolean -> "boolean"
        is Number, is ULong, is UInt -> "number"
        is String -> "string"
        is List<*> -> "array"
        else -> "object"
    }

    fun decimal(v: Any?): BigDecimal? = when (v) {
        is Long -> BigDecimal.valueOf(v)
        is Int -> BigDecimal.valueOf(v.toLong())
        is BigInteger -> BigDecimal(v)
        is Double -> if (v.isFinite()) BigDecimal(v) else null
        is ULong -> BigDecimal(v.toString())
        is UInt -> BigDecimal.valueOf(v.toLong())
        else -> null
    }

    /** Structural equality; numbers compare by value, a boolean is never a number. */
    fun equal(a: Any?, b: Any?): Boolean {
        val da = decimal(a)
        val db = decimal(b)
        if (da != null || db != null) return da != null && db != null && da.compareTo(db) == 0
        return when (a) {
            is Map<*, *> -> b is Map<*, *> && a.keys == b.keys && a.keys.all { equal(a[it], b[it]) }
            is List<*> -> b is List<*> && a.size == b.size && a.indices.all { equal(a[it], b[it]) }
            else -> a == b
        }
    }

    private class Reader(val s: String) {
        var pos = 0

        fun ws() {
            while (pos < s.length && s[pos] in " \t\r\n") pos++
        }

        fun value(): Any? {
            require(pos < s.length) { "unexpected end of JSON" }
            return when (val c = s[pos]) {
                '{' -> obj()
                '[' -> arr()
                '"' -> str()
                't' -> literal("true", true)
                'f' -> literal("false", false)
                'n' -> literal("null", null)
                else -> if (c == '-' || c.isDigit()) num() else throw IllegalArgumentException("unexpected '$c' at $pos")
            }
        }

        private fun literal(word: String, value: Any?): Any? {
            require(s.startsWith(word, pos)) { "bad literal at $pos" }
            pos += word.length
            return value
        }

        private fun obj(): Map<String, Any?> {
            val out = LinkedHashMap<String, Any?>()
            pos++
            ws()
            if (s[pos] == '}') { pos++; return out }
            while (true) {
                ws()
                val key = str()
                ws()
                require(s[pos] == ':') { "expected ':' at $pos" }
                pos++
                ws()
                out[key] = value()
                ws()
                when (s[pos++]) {
                    ',' -> continue
                    '}' -> return out
                    else -> throw IllegalArgumentException("expected ',' or '}' at ${pos - 1}")
                }
            }
        }

        private fun arr(): List<Any?> {
            val out = ArrayList<Any?>()
            pos++
            ws()
            if (s[pos] == ']') { pos++; return out }
            while (true) {
                ws()
                out.add(value())
                ws()
                when (s[pos++]) {
                    ',' -> continue
                    ']' -> return out
                    else -> throw IllegalArgumentException("expected ',' or ']' at ${pos - 1}")
                }
            }
        }

        private fun str(): String {
            require(s[pos] == '"') { "expected a string at $pos" }
            pos++
            val out = StringBuilder()
            while (true) {
                val c = s[pos++]
                when (c) {
                    '"' -> return out.toString()
                    '\\' -> {
                        when (val e = s[pos++]) {
                            '"' -> out.append('"')
                            '\\' -> out.append('\\')
                            '/' -> out.append('/')
                            'b' -> out.append('\b')
                            'f' -> out.append('\u000C')
                            'n' -> out.append('\n')
                            'r' -> out.append('\r')
                            't' -> out.append('\t')
                            'u' -> {
                                out.append(s.substring(pos, pos + 4).toInt(16).toChar())
                                pos += 4
                            }
                            else -> throw IllegalArgumentException("bad escape '\\$e' at $pos")
                        }
                    }
                    else -> out.append(c)
                }
            }
        }

        private fun num(): Any {
            val start = pos
            if (s[pos] == '-') pos++
            while (pos < s.length && (s[pos].isDigit() || s[pos] in ".eE+-")) pos++
            val text = s.substring(start, pos)
            if (text.any { it in ".eE" }) return text.toDouble()
            val big = BigInteger(text)
            return if (big.bitLength() < 64) big.toLong() else big
        }
    }
}
