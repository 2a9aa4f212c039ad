// Runs the Kotlin suites: every conformance scenario on the memory and SQLite stores, the state
// codec vectors, and the API checks. Prints one `N passed, N failed` line per suite and a total
// as the last line; exits non-zero on any failure.
package dev.sessionkit.tests

import dev.sessionkit.SessionManager
import java.io.File
import java.nio.file.Files
import kotlin.system.exitProcess

fun main() {
    val conformance = Suite("conformance")
    val files = Conformance.scenarioFiles()
    conformance.test("scenarios are found") { check(files.isNotEmpty()) { "no scenario in tests/conformance" } }
    val tmp = Files.createTempDirectory("sessionkit-kotlin-conformance").toFile()
    try {
        for (file in files) {
            val scenario = Json.parse(file.readText()) as Map<*, *>
            conformance.test("${file.nameWithoutExtension} (memory)") {
                checkEq(file.nameWithoutExtension, scenario["name"], "scenario name")
                Conformance.run(scenario) { config, clock -> SessionManager.openMemory(config, clock) }
            }
            conformance.test("${file.nameWithoutExtension} (sqlite)") {
                val dir = File(tmp, file.nameWithoutExtension).apply { mkdirs() }
                Conformance.run(scenario) { config, clock ->
                    SessionManager.openSqlite(File(dir, "sessions.db").path, config, clock)
                }
            }
        }
    } finally {
        tmp.deleteRecursively()
    }

    val vectors = Suite("vectors")
    VectorsTest.run(vectors)
    val api = Suite("api")
    ApiTest.run(api)

    val client = Suite("client scenarios")
    ClientScenarios.run(client)

    val suites = listOf(conformance, vectors, api, client)
    suites.forEach { it.summary() }
    val passed = suites.sumOf { it.passed }
    val failed = suites.sumOf { it.failed }
    println("kotlin: $passed passed, $failed failed")
    exitProcess(if (failed == 0) 0 else 1)
}
