// A minimal test harness (no JUnit on this classpath): named checks, one line per failure, and
// a closing `N passed, N failed` line per suite.
package dev.sessionkit.tests

class Suite(val name: String) {
    var passed = 0
        private set
    var failed = 0
        private set

    fun test(testName: String, body: () -> Unit) {
        try {
            body()
            passed++
        } catch (e: Throwable) {
            failed++
            println("FAIL $name / $testName: ${e.message ?: e}")
            if (e !is AssertionError && e !is StepFailure) e.printStackTrace(System.out)
        }
    }

    fun summary() = println("kotlin $name: $passed passed, $failed failed")
}

fun check(condition: Boolean, message: () -> String = { "check failed" }) {
    if (!condition) throw AssertionError(message())
}

fun <T> checkEq(expected: T, actual: T, what: String = "value") {
    if (expected != actual) throw AssertionError("$what: expected $expected, got $actual")
}

inline fun <reified E : Throwable> assertThrows(body: () -> Unit): E {
    try {
        body()
    } catch (e: Throwable) {
        if (e is E) return e
        throw AssertionError("expected ${E::class.simpleName}, got $e")
    }
    throw AssertionError("expected ${E::class.simpleName}, nothing was thrown")
}
