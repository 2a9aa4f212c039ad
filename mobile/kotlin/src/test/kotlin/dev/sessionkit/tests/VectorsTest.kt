// The shared state codec vectors (tests/vectors/state_codec.json) through the Kotlin API: the
// same JSON encodes to the same bytes as in Rust, decodes back, and every damaged blob is Corrupt.
package dev.sessionkit.tests

import dev.sessionkit.SessionkitException
import dev.sessionkit.StateCodec
import java.io.File
import java.util.Base64

object VectorsTest {
    fun run(suite: Suite) {
        val doc = Json.parse(File(Conformance.repoRoot(), "tests/vectors/state_codec.json").readText()) as Map<*, *>
        val vectors = doc["vectors"] as List<*>
        val corrupt = doc["corrupt"] as List<*>
        suite.test("vectors cover compression") {
            check(vectors.size >= 10 && corrupt.size >= 8)
            check(vectors.count { (it as Map<*, *>)["compressed"] == true } >= 2)
        }
        for (raw in vectors) {
            val case = raw as Map<*, *>
            val threshold = (case["compression_threshold"] as Long).toULong()
            val maxBytes = (case["max_bytes"] as Long).toULong()
            val blob = Base64.getDecoder().decode(case["blob_base64"] as String)
            suite.test("encode ${case["name"]}") {
                StateCodec(threshold, maxBytes).use { codec ->
                    val encoded = codec.encode(case["input_json"] as String)
                    check(encoded.blob.contentEquals(blob)) { "encoded bytes differ" }
                    checkEq((case["size"] as Long).toULong(), encoded.size, "size")
                    checkEq(case["compressed"], encoded.compressed, "compressed")
                    checkEq(case["checksum"], encoded.checksum, "checksum")
                }
            }
            suite.test("decode ${case["name"]}") {
                StateCodec(threshold, maxBytes).use { codec ->
                    val decoded = codec.decode(blob)
                    checkEq(case["canonical_json"], decoded.data, "canonical JSON")
                    checkEq(case["checksum"], decoded.checksum, "checksum")
                    checkEq((case["size"] as Long).toULong(), decoded.size, "size")
                }
            }
        }
        for (raw in corrupt) {
            val case = raw as Map<*, *>
            suite.test("corrupt ${case["name"]}") {
                StateCodec(10_240uL, (case["max_bytes"] as Long).toULong()).use { codec ->
                    val e = assertThrows<SessionkitException> {
                        codec.decode(Base64.getDecoder().decode(case["blob_base64"] as String))
                    }
                    checkEq("Corrupt", e.kind(), "kind")
                    check(e is SessionkitException.Corrupt)
                }
            }
        }
    }
}
