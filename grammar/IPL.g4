// IPL: the ipec policy language. docs/language.md describes it for authors.
//
// Names (operations, properties) are plain identifiers resolved by sema, not
// keywords, so that misspellings get "did you mean" notes and so that later
// user-defined names (operation groups, sets, macros) share one namespace.
grammar IPL;

policy
  : header statement* EOF
  ;

// A file that another includes: statements only, no header.
module
  : statement* EOF
  ;

header
  : 'policy' name=STRING 'version' ver=VERSION ';'
  ;

statement
  : defaultDecl
  | ruleDecl
  | setDecl
  | groupDecl
  | includeDecl
  | macroDecl
  | macroStmt
  ;

// Macros: templates expanded where they are used, with parameters bound to
// values resolved at the call site.
//   macro verity_signed(root) = dmverity.roothash == root and dmverity.signature;
//   macro trusted(ops, tools) { allow ops if fsverity.digest in tools; }
macroDecl
  : 'macro' name=IDENT '(' macroParams? ')'
    ( '=' body=cond ';'
    | '{' macroBodyStatement* '}'
    )
  ;

macroParams
  : IDENT (',' IDENT)*
  ;

// What a rule macro's body holds.
macroBodyStatement
  : defaultDecl
  | ruleDecl
  | macroStmt
  ;

// trusted(exec_any, release_tools);
macroStmt
  : macroCall ';'
  ;

macroCall
  : name=IDENT '(' (macroArg (',' macroArg)*)? ')'
  ;

// An argument's meaning comes from where the macro uses its parameter: a
// name may be an operation, a group, a set, a constant or a condition.
macroArg
  : DIGEST                          # digestArg
  | setLiteral                      # setArg
  | cond                            # condArg
  | '(' opList ')'                  # opsArg
  ;

// group userland = execute, mmap_exec;
groupDecl
  : 'group' name=IDENT '=' opList ';'
  ;

// include "relative/to/this/file.ipl";  include <from/search/path.ipl>;
includeDecl
  : 'include' (path=STRING | syspath=SYSTEM_PATH) ';'
  ;

// set trusted_tools = { sha256:..., sha256:..., other_set };
// set release_files = from "release-digests.txt";
setDecl
  : 'set' name=IDENT '=' (setLiteral | 'from' path=STRING) ';'
  ;

setLiteral
  : '{' (setItem (',' setItem)* ','?)? '}'
  ;

setItem
  : DIGEST                          # digestItem
  | IDENT                           # setNameItem
  ;

// default deny;                    the global default
// default kmodule, firmware allow; per-operation defaults
defaultDecl
  : 'default' opList? audit='audit'? action ';'
  ;

// audit deny execute, mmap_exec if fsverity.digest == sha256:...;
ruleDecl
  : audit='audit'? action opList ('if' cond)? ';'
  ;

action
  : 'allow'
  | 'deny'
  ;

opList
  : opName (',' opName)*
  ;

// 'policy' is also the header keyword.
opName
  : IDENT
  | 'policy'
  ;

// Precedence: not binds tightest, then and, then or.
cond
  : 'not' cond                      # notCond
  | cond 'and' cond                 # andCond
  | cond 'or' cond                  # orCond
  | '(' cond ')'                    # parenCond
  | macroCall                       # callCond
  | propRef op=('==' | '!=') value  # compareCond
  | propRef 'in' setRef             # inCond
  | propRef                         # boolCond
  | ('true' | 'false')              # constCond
  ;

propRef
  : IDENT ('.' IDENT)*
  ;

setRef
  : IDENT                           # namedSet
  | setLiteral                      # literalSet
  ;

value
  : DIGEST                          # digestValue
  | ('true' | 'false')              # boolValue
  | IDENT                           # nameValue
  ;

STRING  : '"' (~["\\\r\n] | '\\' ~[\r\n])* '"' ;
SYSTEM_PATH : '<' ~[<>"\r\n]+ '>' ;
VERSION : DIGITS '.' DIGITS '.' DIGITS ;
// An algorithm name, a colon and hex digits: sha256:0f3a...
DIGEST  : [a-zA-Z] [a-zA-Z0-9_-]* ':' HEXDIGIT+ ;
IDENT   : [a-zA-Z_] [a-zA-Z0-9_]* ;
NUMBER  : DIGITS ;

// Comments are kept (off the parser's channel) for ipec fmt.
LINE_COMMENT : ('#' | '//') ~[\r\n]* -> channel(HIDDEN) ;
WS           : [ \t\r\n\f]+ -> skip ;
// Anything else becomes a token the parser rejects with a located error.
ERROR_CHAR   : . ;

fragment DIGITS   : [0-9]+ ;
fragment HEXDIGIT : [0-9a-fA-F] ;
