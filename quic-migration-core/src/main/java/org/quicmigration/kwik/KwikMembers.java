package org.quicmigration.kwik;

import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Internal: looks up Kwik's non-public members by name and uses them. A member that is missing is recorded, not
 * thrown, so that every class declaring members loads and {@link KwikInternals#verify()} names all that are missing
 * at once; a missing member is null, and using it fails.
 */
final class KwikMembers {

    private static final List<String> MISSING = new CopyOnWriteArrayList<>();

    private KwikMembers() {
    }

    /** The members not found so far, as "class.member: reason". */
    static List<String> missing() {
        return List.copyOf(MISSING);
    }

    static Class<?> type(String name) {
        try {
            return Class.forName(name);
        } catch (ClassNotFoundException | LinkageError e) {
            MISSING.add(name + ": " + e);
            return null;
        }
    }

    static Field field(Class<?> type, String name) {
        if (type == null) {
            MISSING.add("?." + name + ": its class is missing");
            return null;
        }
        try {
            Field field = type.getDeclaredField(name);
            field.setAccessible(true);
            return field;
        } catch (NoSuchFieldException | RuntimeException e) {
            MISSING.add(type.getName() + "." + name + ": " + e);
            return null;
        }
    }

    static Method method(Class<?> type, String name, Class<?>... parameters) {
        if (type == null) {
            MISSING.add("?." + name + "(): its class is missing");
            return null;
        }
        try {
            Method method = type.getDeclaredMethod(name, parameters);
            method.setAccessible(true);
            return method;
        } catch (NoSuchMethodException | RuntimeException e) {
            MISSING.add(type.getName() + "." + name + "(): " + e);
            return null;
        }
    }

    static Constructor<?> constructor(Class<?> type, Class<?>... parameters) {
        try {
            Constructor<?> constructor = type.getDeclaredConstructor(parameters);
            constructor.setAccessible(true);
            return constructor;
        } catch (NoSuchMethodException | RuntimeException e) {
            MISSING.add(type.getName() + ".<init>: " + e);
            return null;
        }
    }

    static Object get(Field field, Object target) {
        try {
            return field.get(target);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot read Kwik field " + field, e);
        }
    }

    static void set(Field field, Object target, Object value) {
        try {
            field.set(target, value);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot write Kwik field " + field, e);
        }
    }

    static Object invoke(Method method, Object target, Object... arguments) {
        try {
            return method.invoke(target, arguments);
        } catch (IllegalAccessException e) {
            throw new IllegalStateException("cannot call Kwik method " + method, e);
        } catch (InvocationTargetException e) {
            Throwable cause = e.getCause();
            if (cause instanceof RuntimeException runtime) {
                throw runtime;
            }
            if (cause instanceof Error error) {
                throw error;
            }
            throw new IllegalStateException("Kwik method " + method + " failed", cause);
        }
    }
}
