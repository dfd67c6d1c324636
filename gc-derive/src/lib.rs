//! `#[derive(Trace)]` for tricolor-gc. Users reach it through the facade crate (`gc::Trace`).
//!
//! This crate owns the expansion of the derive; the trait and its rules live in
//! `tricolor_gc_core::trace` (re-exported as `gc::Trace`).
//!
//! # Algorithm
//! 1. Parse the type's `#[gc(...)]` options (`unsafe_drop`, `crate = "path"`) and each
//!    field's (`skip`). Unknown keys, keys at the wrong level and unions are errors with a
//!    span; nothing here panics.
//! 2. Bounds: every type parameter that occurs as a type in a traced field's type gets
//!    `P: Trace`. A traced field whose type projects out of a parameter (`T::Item`,
//!    `<T as X>::Y`) gets `FieldType: Trace` instead (the parameter itself need not be
//!    `Trace`, e.g. an iterator). Parameters used only in skipped fields get no bound.
//! 3. `NEEDS_TRACE` is `false || <F as Trace>::NEEDS_TRACE || ...` over the traced field
//!    types `F` (so `false` when nothing is traced). In `F`, references to the type itself
//!    are replaced by a placeholder whose `NEEDS_TRACE` is false, so that a recursive type
//!    (`children: Vec<Node>`) is not a const-evaluation cycle (see
//!    `replace_self_references`).
//! 4. `trace` destructures `self` (a `match` for enums) and calls `Trace::trace` on each
//!    traced field exactly once. That is rules 1 and 2 of `Trace` by construction: a field
//!    is owned by the value, and each is visited once.
//! 5. Drop check: unless `#[gc(unsafe_drop)]` is given or no field is traced, emit
//!    pin-project's conflicting-impls trick inside `const _: () = { ... };`: a local trait
//!    with a blanket impl for every `T: Drop` plus an impl for the derived type. A manual
//!    `Drop` impl on the type then makes the two impls overlap, and the error names the
//!    trait `TypesDerivingTraceMustNotImplementDrop_OptOutWith_gc_unsafe_drop`.
//! 6. Opt-out check: with `#[gc(unsafe_drop)]`, emit (again inside `const _`) a function,
//!    generic over the impl's parameters with the `Trace` impl's bounds, whose body needs
//!    `Type<..>: #krate::UnsafeDrop`. Function bodies are type-checked whether or not
//!    anything calls them, so a missing `unsafe impl UnsafeDrop` is an error at the
//!    attribute, for generic types too. The opt-out thus always takes an `unsafe` token:
//!    safe code alone can never skip step 5.
//!
//! Mirrors nothing in Go (the Go compiler emits pointer bitmaps instead); the shape follows
//! gc-arena's `#[derive(Collect)]` (its `no_drop` check) and serde's `crate = "..."`.
//!
//! # Invariants
//! - Generated code names only `#krate::Trace`, `#krate::Tracer`, `#krate::UnsafeDrop`,
//!   `#krate::__private` and `::core` items, with `#krate` = `::gc` unless the user
//!   overrides it, so it works in a crate that depends only on the facade.
//! - A type whose manual `Drop` the derive does not reject (step 5) implements
//!   `#krate::UnsafeDrop` (step 6), or has no traced field.
//! - Generated local names start with `__gc_`, so user field names cannot clash.

use proc_macro::TokenStream;
use proc_macro2::{Span, TokenStream as TokenStream2, TokenTree};
use quote::{format_ident, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit::Visit;
use syn::visit_mut::VisitMut;
use syn::{
    parse_macro_input, parse_quote, Attribute, Data, DeriveInput, Fields, Generics, Ident, LitStr,
    Path, Type, WherePredicate,
};

/// Derives `gc::Trace` (see the facade's docs of `Trace` for examples).
///
/// The generated `unsafe impl` reports every field's handles once, sets `NEEDS_TRACE` to
/// the OR of the traced field types' `NEEDS_TRACE` (`false` if no field is traced), and
/// upholds the rules of the trait by construction.
///
/// Works on structs (named, tuple, unit) and enums (every variant kind, including empty
/// enums); unions and `#[repr(packed)]` types are rejected.
///
/// # Generics
///
/// Each type parameter that occurs as a type in a traced field (`T`, `Vec<T>`, `(T, u8)`)
/// gets a `T: Trace` bound. A traced field whose type involves a projection of a parameter
/// (`T::Item`, `<T as Tr>::Out`) gets `FieldType: Trace` instead, so the parameter itself
/// (say, an iterator) need not be `Trace`. A parameter that occurs only in `#[gc(skip)]`
/// fields (or not at all) gets no bound.
///
/// # Attributes
///
/// - `#[gc(skip)]` on a field: the field is not traced and its type needs no `Trace` impl
///   (use it for foreign types). A `Gc` inside a skipped field is never counted as held
///   from inside the heap, so its target stays alive as long as the field does, and a
///   cycle through it is never freed: a leak, never unsound.
/// - `#[gc(unsafe_drop)]` on the type: allow a manual `Drop` impl. By default the derive
///   rejects one when at least one field is traced, because the sweeper drops dead objects
///   in no particular order: a `Drop` that dereferences a `Gc` can read a neighbour that
///   was already dropped, and one that clones or moves a handle out lets a handle to a dead
///   object escape the sweep. The key needs an `unsafe impl gc::UnsafeDrop for Type {}`
///   beside it (without one the type does not compile), by which you promise that your
///   `Drop` does not dereference, clone or move out any `Gc` it can reach (the `# Safety`
///   section of `UnsafeDrop`, rule 6 of `Trace`).
/// - `#[gc(crate = "path")]` on the type: the path of the facade crate, if you renamed the
///   dependency (default `::gc`).
///
/// Any other key is a compile error.
#[proc_macro_derive(Trace, attributes(gc))]
pub fn derive_trace(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Options given on the type itself.
struct TypeOptions {
    /// `#[gc(unsafe_drop)]` (its span): skip the Drop check, require `UnsafeDrop`.
    unsafe_drop: Option<Span>,
    /// `#[gc(crate = "...")]`, else `::gc`.
    krate: Path,
}

/// A field to trace: its type and the name it is bound to in the generated pattern.
struct TracedField<'a> {
    ty: &'a Type,
    binding: Ident,
}

fn expand(input: &DeriveInput) -> syn::Result<TokenStream2> {
    let options = parse_type_options(&input.attrs)?;
    reject_packed(&input.attrs)?;
    let krate = &options.krate;

    let mut traced: Vec<TracedField<'_>> = Vec::new();
    let body = match &input.data {
        Data::Struct(data) => {
            let pattern = destructure(quote!(Self), &data.fields, &mut traced)?;
            let calls = trace_calls(krate, &traced[..]);
            quote! {
                let #pattern = self;
                #calls
            }
        }
        Data::Enum(data) => {
            let mut arms = Vec::with_capacity(data.variants.len());
            for variant in &data.variants {
                if let Some(attr) = variant.attrs.iter().find(|a| a.path().is_ident("gc")) {
                    return Err(syn::Error::new_spanned(
                        attr,
                        "tricolor-gc: #[gc(...)] is not allowed on an enum variant; put \
                         `skip` on its fields, or `unsafe_drop` / `crate` on the enum",
                    ));
                }
                let first = traced.len();
                let name = &variant.ident;
                let pattern = destructure(quote!(Self::#name), &variant.fields, &mut traced)?;
                let calls = trace_calls(krate, &traced[first..]);
                arms.push(quote!(#pattern => { #calls }));
            }
            if arms.is_empty() {
                // An empty enum has no values, so `trace` can never be called.
                quote!(match *self {})
            } else {
                quote!(match self { #(#arms)* })
            }
        }
        Data::Union(data) => {
            return Err(syn::Error::new(
                data.union_token.span,
                "tricolor-gc: #[derive(Trace)] does not support unions (the active field is \
                 unknown); write an `unsafe impl Trace` by hand",
            ))
        }
    };
    // With no traced field the tracer is unused; say so rather than allow a lint.
    let body = if traced.is_empty() {
        quote! {
            let _ = __gc_tracer;
            #body
        }
    } else {
        body
    };

    let generics = add_bounds(&input.generics, krate, &traced);
    let (impl_generics, ty_generics, where_clause) = generics.split_for_impl();
    let name = &input.ident;
    // Spanned at each field type, so a missing impl is reported at the field.
    let needs_trace_terms = traced.iter().map(|f| {
        let ty = replace_self_references(f.ty, input, krate);
        let krate = respan(krate, f.ty.span());
        quote_spanned!(f.ty.span()=> || <#ty as #krate::Trace>::NEEDS_TRACE)
    });

    let drop_check = match options.unsafe_drop {
        Some(attr_span) => unsafe_drop_check(input, &generics, krate, attr_span),
        None if traced.is_empty() => quote!(),
        None => drop_check(input),
    };

    Ok(quote! {
        #[automatically_derived]
        // The derive visits each field once and reads only through `&self`, which is what
        // the rules of `Trace` ask; the drop check below enforces rule 6 (or, with
        // `#[gc(unsafe_drop)]`, requires the user's `unsafe impl UnsafeDrop`).
        unsafe impl #impl_generics #krate::Trace for #name #ty_generics #where_clause {
            const NEEDS_TRACE: bool = false #(#needs_trace_terms)*;

            #[inline]
            fn trace(&self, __gc_tracer: &mut #krate::Tracer) {
                #body
            }
        }
        #drop_check
    })
}

/// A pattern that binds every traced field of `fields` (pushed onto `traced`) and ignores
/// the skipped ones.
fn destructure<'a>(
    path: TokenStream2,
    fields: &'a Fields,
    traced: &mut Vec<TracedField<'a>>,
) -> syn::Result<TokenStream2> {
    let mut parts = Vec::with_capacity(fields.len());
    for field in fields {
        let binding = if parse_field_skip(&field.attrs)? {
            quote!(_)
        } else {
            let binding = format_ident!("__gc_field_{}", traced.len(), span = field.ty.span());
            traced.push(TracedField {
                ty: &field.ty,
                binding: binding.clone(),
            });
            quote!(#binding)
        };
        parts.push(match &field.ident {
            Some(ident) => quote!(#ident: #binding),
            None => binding,
        });
    }
    Ok(match fields {
        Fields::Named(_) => quote!(#path { #(#parts),* }),
        Fields::Unnamed(_) => quote!(#path ( #(#parts),* )),
        Fields::Unit => path,
    })
}

fn trace_calls(krate: &Path, fields: &[TracedField<'_>]) -> TokenStream2 {
    let calls = fields.iter().map(|f| {
        let binding = &f.binding;
        let krate = respan(krate, f.ty.span());
        quote_spanned!(f.ty.span()=> #krate::Trace::trace(#binding, __gc_tracer);)
    });
    quote!(#(#calls)*)
}

/// `path` with every token's span set to `span`, so that an unsatisfied `Trace` bound in an
/// expression built from it is reported at `span` (the field) rather than at the derive.
fn respan(path: &Path, span: Span) -> TokenStream2 {
    respan_tokens(quote!(#path), span)
}

/// `tokens` with every token's span (nested groups included) set to `span`.
fn respan_tokens(tokens: TokenStream2, span: Span) -> TokenStream2 {
    tokens
        .into_iter()
        .map(|mut tt| {
            if let TokenTree::Group(group) = &tt {
                let mut new =
                    proc_macro2::Group::new(group.delimiter(), respan_tokens(group.stream(), span));
                new.set_span(span);
                tt = TokenTree::Group(new);
            } else {
                tt.set_span(span);
            }
            tt
        })
        .collect()
}

/// Adds `P: Trace` for each type parameter used in a traced field, and `F: Trace` for each
/// traced field type that projects out of a parameter.
fn add_bounds(generics: &Generics, krate: &Path, traced: &[TracedField<'_>]) -> Generics {
    let params: Vec<&Ident> = generics.type_params().map(|p| &p.ident).collect();
    let mut used = vec![false; params.len()];
    let mut predicates: Vec<WherePredicate> = Vec::new();
    for field in traced {
        let mut finder = ParamFinder {
            params: &params,
            used: &mut used,
            projection: false,
        };
        finder.visit_type(field.ty);
        if finder.projection {
            let ty = field.ty;
            predicates.push(parse_quote!(#ty: #krate::Trace));
        }
    }
    let mut generics = generics.clone();
    let where_clause = generics.make_where_clause();
    for (param, used) in params.iter().zip(used) {
        if used {
            where_clause
                .predicates
                .push(parse_quote!(#param: #krate::Trace));
        }
    }
    where_clause.predicates.extend(predicates);
    generics
}

/// `ty` with each reference to the derived type itself (`Self`, or its name with exactly
/// its declared parameters) replaced by `__SelfPlaceholder`, whose `NEEDS_TRACE` is false.
///
/// `NEEDS_TRACE` of a recursive type would otherwise refer to itself, a cycle in const
/// evaluation. Every std impl computes `NEEDS_TRACE` as an OR of its parts', so assuming
/// `false` for the recursive occurrence yields the least fixed point, which is exact: a
/// value can hold a handle only through some non-recursive part. A use with other
/// arguments (`Node<Box<T>>` inside `Node<T>`) is left alone, because its parts differ;
/// such polymorphic recursion, and mutual recursion between two types without a `Gc` in
/// between, still fail to compile with a cycle error (never unsoundly).
fn replace_self_references(ty: &Type, input: &DeriveInput, krate: &Path) -> Type {
    let (_, ty_generics, _) = input.generics.split_for_impl();
    let mut replacer = SelfReplacer {
        name: &input.ident,
        own_args: compact(quote!(#ty_generics)),
        placeholder: parse_quote!(#krate::__private::__SelfPlaceholder),
    };
    let mut ty = ty.clone();
    replacer.visit_type_mut(&mut ty);
    ty
}

/// Token text without whitespace, for comparing generic argument lists.
fn compact(tokens: TokenStream2) -> String {
    tokens.to_string().split_whitespace().collect()
}

struct SelfReplacer<'a> {
    name: &'a Ident,
    own_args: String,
    placeholder: Type,
}

impl VisitMut for SelfReplacer<'_> {
    fn visit_type_mut(&mut self, node: &mut Type) {
        if let Type::Path(type_path) = node {
            let path = &type_path.path;
            if type_path.qself.is_none() && path.leading_colon.is_none() && path.segments.len() == 1
            {
                let segment = &path.segments[0];
                let args = match &segment.arguments {
                    syn::PathArguments::None => String::new(),
                    syn::PathArguments::AngleBracketed(args) => compact(quote!(#args)),
                    syn::PathArguments::Parenthesized(_) => "()".to_owned(),
                };
                let is_self = (segment.ident == "Self" && args.is_empty())
                    || (segment.ident == *self.name && args == self.own_args);
                if is_self {
                    *node = self.placeholder.clone();
                    return;
                }
            }
        }
        syn::visit_mut::visit_type_mut(self, node);
    }
}

/// Finds which type parameters a type mentions, and whether it projects out of one.
struct ParamFinder<'p, 'u> {
    params: &'p [&'p Ident],
    used: &'u mut [bool],
    projection: bool,
}

impl<'ast> Visit<'ast> for ParamFinder<'_, '_> {
    fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
        match &node.qself {
            // `<T as Trait>::Assoc`: the field type needs the bound, `T` itself does not.
            Some(qself) => self.projection |= mentions_param(self.params, &qself.ty),
            None if node.path.leading_colon.is_none() => {
                let first = node.path.segments.first().map(|s| &s.ident);
                if let Some(i) = self.params.iter().position(|p| Some(*p) == first) {
                    if node.path.segments.len() == 1 {
                        self.used[i] = true;
                    } else {
                        // `T::Assoc`: likewise only the field type is bounded.
                        self.projection = true;
                    }
                }
            }
            None => {}
        }
        // Recurse into generic arguments (`Vec<T>`), but not into `qself`.
        self.visit_path(&node.path);
    }
}

/// Whether `ty` mentions any of `params`.
fn mentions_param(params: &[&Ident], ty: &Type) -> bool {
    let mut used = vec![false; params.len()];
    let mut finder = ParamFinder {
        params,
        used: &mut used,
        projection: false,
    };
    finder.visit_type(ty);
    used.contains(&true)
}

/// The compile-time rejection of a manual `Drop` impl (pin-project's technique).
fn drop_check(input: &DeriveInput) -> TokenStream2 {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let span = name.span();
    let check = Ident::new(
        "TypesDerivingTraceMustNotImplementDrop_OptOutWith_gc_unsafe_drop",
        span,
    );
    quote_spanned! {span=>
        // A manual `Drop` impl on the type makes these two impls overlap (E0119): a `Drop`
        // run by the sweeper could dereference a `Gc` whose target was already freed.
        // `#[gc(unsafe_drop)]` removes this check.
        const _: () = {
            // The trait exists only for the overlap check; nothing calls it.
            #[allow(non_camel_case_types, dead_code)]
            trait #check {}
            #[allow(drop_bounds)]
            impl<__GcT: ::core::ops::Drop> #check for __GcT {}
            impl #impl_generics #check for #name #ty_generics #where_clause {}
        };
    }
}

/// With `#[gc(unsafe_drop)]`: a compile error at the attribute unless the type implements
/// `#krate::UnsafeDrop` for every instantiation the `Trace` impl covers (module docs,
/// step 6).
fn unsafe_drop_check(
    input: &DeriveInput,
    trace_generics: &Generics,
    krate: &Path,
    attr_span: Span,
) -> TokenStream2 {
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = trace_generics.split_for_impl();
    // Every token of the requirement carries the attribute's span, so the unsatisfied-bound
    // error (worded by `UnsafeDrop`'s `on_unimplemented`) points at `unsafe_drop`.
    let bound = respan_tokens(quote!(#krate::UnsafeDrop), attr_span);
    let require = respan_tokens(
        quote!(__gc_require_unsafe_drop::<#name #ty_generics>();),
        attr_span,
    );
    quote! {
        // `#[gc(unsafe_drop)]` lifted the Drop check; it is sound only with the user's
        // `unsafe impl UnsafeDrop` (the promise that the `Drop` leaves handles alone).
        const _: () = {
            #[allow(dead_code)]
            fn __gc_require_unsafe_drop<__GcT: ?::core::marker::Sized + #bound>() {}
            #[allow(dead_code)]
            fn __gc_check_unsafe_drop #impl_generics () #where_clause {
                #require
            }
        };
    }
}

fn parse_type_options(attrs: &[Attribute]) -> syn::Result<TypeOptions> {
    let mut unsafe_drop: Option<Span> = None;
    let mut krate: Option<Path> = None;
    for attr in gc_attrs(attrs)? {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("unsafe_drop") {
                if unsafe_drop.is_some() {
                    return Err(meta.error("tricolor-gc: duplicate `unsafe_drop`"));
                }
                unsafe_drop = Some(meta.path.span());
                Ok(())
            } else if meta.path.is_ident("crate") {
                if krate.is_some() {
                    return Err(meta.error("tricolor-gc: duplicate `crate = \"...\"`"));
                }
                let lit: LitStr = meta.value()?.parse()?;
                krate = Some(lit.parse().map_err(|_| {
                    syn::Error::new(
                        lit.span(),
                        "tricolor-gc: `crate = \"...\"` must name a path, like \"::my_gc\"",
                    )
                })?);
                Ok(())
            } else if meta.path.is_ident("skip") {
                Err(meta.error("tricolor-gc: `skip` goes on a field, not on the type"))
            } else {
                Err(unknown_key(&meta.path))
            }
        })?;
    }
    Ok(TypeOptions {
        unsafe_drop,
        krate: krate.unwrap_or_else(|| parse_quote!(::gc)),
    })
}

/// Whether the field carries `#[gc(skip)]`.
fn parse_field_skip(attrs: &[Attribute]) -> syn::Result<bool> {
    let mut skip = false;
    for attr in gc_attrs(attrs)? {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("skip") {
                if skip {
                    return Err(meta.error("tricolor-gc: duplicate `skip`"));
                }
                skip = true;
                Ok(())
            } else if meta.path.is_ident("unsafe_drop") || meta.path.is_ident("crate") {
                Err(meta
                    .error("tricolor-gc: `unsafe_drop` and `crate` go on the type, not on a field"))
            } else {
                Err(unknown_key(&meta.path))
            }
        })?;
    }
    Ok(skip)
}

/// The `#[gc(...)]` attributes among `attrs`; a bare `#[gc]` or `#[gc = ...]` is an error.
fn gc_attrs(attrs: &[Attribute]) -> syn::Result<Vec<&Attribute>> {
    let mut found = Vec::new();
    for attr in attrs.iter().filter(|a| a.path().is_ident("gc")) {
        if !matches!(attr.meta, syn::Meta::List(_)) {
            return Err(syn::Error::new_spanned(
                attr,
                "tricolor-gc: expected #[gc(...)], e.g. #[gc(skip)]",
            ));
        }
        found.push(attr);
    }
    Ok(found)
}

fn unknown_key(path: &Path) -> syn::Error {
    let key = quote!(#path).to_string().replace(' ', "");
    syn::Error::new_spanned(
        path,
        format!(
            "tricolor-gc: unknown attribute `gc({key})`; expected `skip` on a field, or \
             `unsafe_drop` or `crate = \"...\"` on the type"
        ),
    )
}

/// `#[repr(packed)]` fields cannot be borrowed, so the generated pattern would not compile;
/// say why instead of leaving the user with E0793.
fn reject_packed(attrs: &[Attribute]) -> syn::Result<()> {
    for attr in attrs.iter().filter(|a| a.path().is_ident("repr")) {
        if let syn::Meta::List(list) = &attr.meta {
            let packed = list
                .tokens
                .clone()
                .into_iter()
                .any(|tt| matches!(&tt, TokenTree::Ident(i) if i == "packed"));
            if packed {
                return Err(syn::Error::new_spanned(
                    attr,
                    "tricolor-gc: #[derive(Trace)] does not support #[repr(packed)] types \
                     (their fields cannot be borrowed); write an `unsafe impl Trace` by hand",
                ));
            }
        }
    }
    Ok(())
}
