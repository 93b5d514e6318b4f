package org.quicmigration;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import com.tngtech.archunit.library.dependencies.SliceAssignment;
import com.tngtech.archunit.library.dependencies.SliceIdentifier;
import org.junit.jupiter.api.Test;

/**
 * The layers of docs/architecture.md, checked on the compiled main classes: the sans-IO core does no I/O and knows
 * no engine, only the binding touches Kwik, HTTP/3 is built on the public API, and no two packages depend on each
 * other.
 */
class ArchitectureTest {

    private static final JavaClasses MAIN = new ClassFileImporter()
            .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
            .importPackages("org.quicmigration");

    @Test
    void theCoreDoesNoIoStartsNoThreadsAndKnowsNoEngine() {
        noClasses().that().resideInAPackage("org.quicmigration.core..")
                .should().dependOnClassesThat().resideInAnyPackage("tech.kwik..", "java.nio.channels..",
                        "java.util.concurrent..", "org.quicmigration.kwik..", "org.quicmigration.qlog..",
                        "org.quicmigration.http3..")
                .orShould().dependOnClassesThat().belongToAnyOf(Thread.class, java.net.DatagramSocket.class,
                        java.net.Socket.class, java.net.NetworkInterface.class, java.time.Clock.class)
                .orShould().callMethod(java.time.Instant.class, "now")
                .orShould().callMethod(System.class, "nanoTime")
                .orShould().callMethod(System.class, "currentTimeMillis")
                .because("the core takes time, randomness and observations as inputs and returns decisions as values")
                .check(MAIN);
    }

    @Test
    void onlyTheBindingTouchesKwik() {
        noClasses().that().resideOutsideOfPackage("org.quicmigration.kwik..")
                .should().dependOnClassesThat().resideInAPackage("tech.kwik..")
                .because("every use of the engine, and of its internals, is in one package that checks itself at start-up")
                .check(MAIN);
    }

    @Test
    void http3IsBuiltOnThePublicApiAndKwiksQpackCodec() {
        noClasses().that().resideInAPackage("org.quicmigration.http3..")
                .should().dependOnClassesThat().resideInAnyPackage("org.quicmigration.core..",
                        "org.quicmigration.qlog..")
                .orShould().dependOnClassesThat(com.tngtech.archunit.base.DescribedPredicate.describe(
                        "binding classes other than the QPACK codec", type -> type.getPackageName()
                                .startsWith("org.quicmigration.kwik") && !type.getSimpleName().startsWith("Qpack")))
                .because("HTTP/3 is what an application could write itself; its QPACK codec is Kwik's library")
                .check(MAIN);
    }

    @Test
    void noPackageCycles() {
        slices().assignedFrom(FIRST_LEVEL).should().beFreeOfCycles().check(MAIN);
        slices().matching("org.quicmigration.core.(*)..").should().beFreeOfCycles().check(MAIN);
    }

    /** The public API (the root package) and each package below it, the core as one. */
    private static final SliceAssignment FIRST_LEVEL = new SliceAssignment() {
        @Override
        public SliceIdentifier getIdentifierOf(JavaClass type) {
            String name = type.getPackageName();
            if (name.equals("org.quicmigration")) {
                return SliceIdentifier.of("public API");
            }
            if (!name.startsWith("org.quicmigration.")) {
                return SliceIdentifier.ignore();
            }
            return SliceIdentifier.of(name.substring("org.quicmigration.".length()).split("\\.")[0]);
        }

        @Override
        public String getDescription() {
            return "the public API and the packages below it";
        }
    };
}
