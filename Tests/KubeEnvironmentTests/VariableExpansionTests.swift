import KubeEnvironment
import Testing

@Suite("$(VAR) expansion follows the kubelet")
struct VariableExpansionTests {
    let known = ["A": "alpha", "B": "beta", "EMPTY": ""]

    func expand(_ input: String) -> String {
        VariableExpansion.expand(input) { known[$0] }
    }

    @Test func replacesKnownNames() {
        #expect(expand("$(A)-$(B)") == "alpha-beta")
        #expect(expand("x$(EMPTY)y") == "xy")
    }

    @Test func keepsUnknownNamesLiterally() {
        #expect(expand("$(NOPE)/$(A)") == "$(NOPE)/alpha")
    }

    @Test func doubleDollarEscapes() {
        #expect(expand("$$(A)") == "$(A)")
        #expect(expand("cost: $$5") == "cost: $5")
    }

    @Test func leavesOtherDollarsAlone() {
        #expect(expand("$A $ $(") == "$A $ $(")
        #expect(expand("trailing $") == "trailing $")
        #expect(expand("$(A") == "$(A")
    }

    @Test func doesNotRecurse() {
        let value = VariableExpansion.expand("$(X)") { $0 == "X" ? "$(A)" : known[$0] }
        #expect(value == "$(A)")
    }
}
