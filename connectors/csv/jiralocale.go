package csv

import (
	"strings"
	"time"

	"github.com/throughline/throughline/ingest"
)

// A Jira CSV export speaks the exporting user's language: headers, month
// abbreviations, AM/PM markers, status categories and default status
// names. This file holds what the reader knows of each language; README.md
// lists it, and says which names were confirmed from a real export and
// which are our best knowledge.

// jiraLanguage is what one language's export calls each canonical column
// (lower-case English header names, as the reader looks them up).
type jiraLanguage struct {
	code    string
	headers map[string][]string // canonical → header names
	// custom is how the language spells "Custom field (" before a field's name.
	custom []string
	// confirmed are the header names (and custom-field prefix) seen in a
	// real export of that language; the others are our best knowledge.
	confirmed []string
}

// jiraLanguages are the languages Jira Cloud offers that PMOs most use.
var jiraLanguages = []jiraLanguage{
	{code: "en", confirmed: []string{"Summary", "Issue key", "Issue id", "Issue Type", "Work type", "Status", "Project key", "Project name", "Resolution", "Assignee", "Assignee Id", "Reporter", "Reporter Id", "Creator", "Creator Id", "Created", "Updated", "Resolved", "Due date", "Fix versions", "Fix Version/s", "Original estimate", "Log Work", "Status Category", "Status Category Changed", "Parent", "Parent key", "Parent id", "custom field ("}, custom: []string{"custom field ("}, headers: map[string][]string{
		"summary": {"Summary"}, "issue key": {"Issue key", "Work item key"}, "issue id": {"Issue id", "Work item id"},
		"issue type": {"Issue Type", "Work type", "Work item type"}, "status": {"Status"},
		"project key": {"Project key"}, "project name": {"Project name"}, "resolution": {"Resolution"},
		"assignee": {"Assignee"}, "assignee id": {"Assignee Id"}, "reporter": {"Reporter"}, "reporter id": {"Reporter Id"},
		"creator": {"Creator"}, "creator id": {"Creator Id"}, "created": {"Created"}, "updated": {"Updated"},
		"resolved": {"Resolved"}, "due date": {"Due date"}, "fix versions": {"Fix versions", "Fix Version/s"},
		"original estimate": {"Original estimate"}, "log work": {"Log Work"},
		"status category": {"Status Category"}, "status category changed": {"Status Category Changed"},
		"parent": {"Parent"}, "parent key": {"Parent key"}, "parent id": {"Parent id"}, "epic link": {"Epic Link"},
	}},
	{code: "es", confirmed: []string{"Resumen", "Clave de incidencia", "ID de la incidencia", "Tipo de Incidencia", "Estado", "Resolución", "Persona asignada", "Informador", "Creada", "Actualizada", "Resuelta", "Fecha de vencimiento", "Estimación original", "Categoría de estado", "Categoría de estado cambiada", "Principal", "Clave principal", "campo personalizado ("}, custom: []string{"campo personalizado ("}, headers: map[string][]string{
		"summary": {"Resumen"}, "issue key": {"Clave de incidencia"}, "issue id": {"ID de la incidencia", "ID de incidencia"},
		"issue type": {"Tipo de Incidencia", "Tipo de trabajo"}, "status": {"Estado"},
		"project key": {"Clave de proyecto", "Clave del proyecto"}, "project name": {"Nombre de proyecto", "Nombre del proyecto"},
		"resolution": {"Resolución"}, "assignee": {"Persona asignada"}, "assignee id": {"ID de persona asignada", "ID de la persona asignada"},
		"reporter": {"Informador"}, "reporter id": {"ID de informador", "ID del informador"}, "creator": {"Creador"},
		"creator id": {"ID de creador", "ID del creador"}, "created": {"Creada"}, "updated": {"Actualizada"}, "resolved": {"Resuelta"},
		"due date": {"Fecha de vencimiento"}, "fix versions": {"Versiones de corrección"},
		"original estimate": {"Estimación original"}, "log work": {"Registrar trabajo", "Trabajo registrado"},
		"status category": {"Categoría de estado"}, "status category changed": {"Categoría de estado cambiada"},
		"parent": {"Principal"}, "parent key": {"Clave principal"},
	}},
	{code: "pt-BR", confirmed: []string{"Resumo", "Chave da item", "ID da item", "Tipo de item", "Status", "Chave do projeto", "Resolução", "Responsável", "ID do responsável", "Relator", "ID do relator", "Criado", "Atualizado(a)", "Atualizado", "Resolvido", "Versão de Correção", "Estimativa original", "Categoria do status", "Categoria do status alterada", "Pai", "campo personalizado ("}, custom: []string{"campo personalizado ("}, headers: map[string][]string{
		"summary": {"Resumo"}, "issue key": {"Chave da item", "Chave do item"}, "issue id": {"ID da item", "ID do item"},
		"issue type": {"Tipo de item", "Tipo do item"}, "status": {"Status"},
		"project key": {"Chave do projeto"}, "project name": {"Nome do projeto"}, "resolution": {"Resolução"},
		"assignee": {"Responsável"}, "assignee id": {"ID do responsável"}, "reporter": {"Relator"}, "reporter id": {"ID do relator"},
		"creator": {"Criador"}, "creator id": {"ID do criador"}, "created": {"Criado"}, "updated": {"Atualizado(a)", "Atualizado"},
		"resolved": {"Resolvido"}, "due date": {"Data limite", "Data de vencimento"},
		"fix versions": {"Versões corrigidas", "Versão de Correção"}, "original estimate": {"Estimativa original"},
		"log work":        {"Registro de trabalho", "Registrar trabalho"},
		"status category": {"Categoria do status"}, "status category changed": {"Categoria do status alterada"},
		"parent": {"Pai"}, "parent key": {"Chave pai", "Chave do pai"},
	}},
	{code: "de", confirmed: []string{"Zusammenfassung", "Vorgangsschlüssel", "Vorgangs-ID", "Vorgangstyp", "Status", "Projektschlüssel", "Projektname", "Lösung", "Zugewiesene Person", "ID der zugewiesenen Person", "Autor", "ID des Autors", "Ersteller", "Ersteller-ID", "Erstellt", "Aktualisiert", "Erledigt", "Fälligkeitsdatum", "Arbeit protokollieren", "Ursprüngliche Schätzung", "Statuskategorie", "Übergeordnet", "benutzerdefinierte felder ("}, custom: []string{"benutzerdefinierte felder (", "benutzerdefiniertes feld ("}, headers: map[string][]string{
		"summary": {"Zusammenfassung"}, "issue key": {"Vorgangsschlüssel"}, "issue id": {"Vorgangs-ID"},
		"issue type": {"Vorgangstyp", "Arbeitstyp"}, "status": {"Status"},
		"project key": {"Projektschlüssel"}, "project name": {"Projektname"}, "resolution": {"Lösung"},
		"assignee": {"Zugewiesene Person"}, "assignee id": {"ID der zugewiesenen Person"}, "reporter": {"Autor"},
		"reporter id": {"ID des Autors"}, "creator": {"Ersteller"}, "creator id": {"Ersteller-ID"},
		"created": {"Erstellt"}, "updated": {"Aktualisiert"}, "resolved": {"Erledigt"}, "due date": {"Fälligkeitsdatum"},
		"fix versions": {"Lösungsversionen"}, "original estimate": {"Ursprüngliche Schätzung"},
		"log work":        {"Arbeit protokollieren"},
		"status category": {"Statuskategorie"}, "status category changed": {"Statuskategorie geändert"},
		"parent": {"Übergeordnet"}, "parent key": {"Übergeordneter Schlüssel"},
	}},
	{code: "fr", confirmed: []string{"Résumé", "Clé de ticket", "ID de ticket", "Type de ticket", "Clé de projet", "Création", "Catégorie d'état", "champs personnalisés ("}, custom: []string{"champs personnalisés (", "champ personnalisé ("}, headers: map[string][]string{
		"summary": {"Résumé"}, "issue key": {"Clé de ticket"}, "issue id": {"ID de ticket"},
		"issue type": {"Type de ticket"}, "status": {"État", "Statut"},
		"project key": {"Clé de projet"}, "project name": {"Nom du projet"}, "resolution": {"Résolution"},
		"assignee": {"Responsable"}, "assignee id": {"ID du responsable"}, "reporter": {"Rapporteur"},
		"reporter id": {"ID du rapporteur"}, "creator": {"Créateur"}, "creator id": {"ID du créateur"},
		"created": {"Création"}, "updated": {"Mise à jour"}, "resolved": {"Résolu", "Résolue"},
		"due date": {"Date d'échéance"}, "fix versions": {"Versions corrigées"},
		"original estimate": {"Estimation originale"}, "log work": {"Enregistrer le travail"},
		"status category": {"Catégorie d'état"}, "status category changed": {"Catégorie d'état modifiée"},
		"parent": {"Parent"}, "parent key": {"Clé parent"},
	}},
	{code: "it", custom: []string{"campo personalizzato ("}, headers: map[string][]string{
		"summary": {"Riepilogo"}, "issue key": {"Chiave ticket"}, "issue id": {"ID ticket"},
		"issue type": {"Tipo di ticket"}, "status": {"Stato"},
		"project key": {"Chiave progetto"}, "project name": {"Nome progetto"}, "resolution": {"Risoluzione"},
		"assignee": {"Assegnatario"}, "assignee id": {"ID assegnatario"}, "reporter": {"Segnalatore"},
		"reporter id": {"ID segnalatore"}, "creator": {"Autore"}, "creator id": {"ID autore"},
		"created": {"Creato"}, "updated": {"Aggiornato"}, "resolved": {"Risolto"}, "due date": {"Data di scadenza"},
		"fix versions": {"Versioni correzione"}, "original estimate": {"Stima originale"}, "log work": {"Registra lavoro"},
		"status category": {"Categoria di stato"}, "status category changed": {"Categoria di stato modificata"},
		"parent": {"Padre"}, "parent key": {"Chiave padre"},
	}},
	{code: "nl", custom: []string{"aangepast veld ("}, headers: map[string][]string{
		"summary": {"Samenvatting"}, "issue key": {"Issuesleutel"}, "issue id": {"Issue-ID"},
		"issue type": {"Issuetype"}, "status": {"Status"}, "project key": {"Projectsleutel"}, "project name": {"Projectnaam"},
		"resolution": {"Oplossing"}, "assignee": {"Toegewezen persoon", "Toegewezene"}, "assignee id": {"ID toegewezen persoon"},
		"reporter": {"Melder"}, "reporter id": {"ID melder"}, "creator": {"Maker"}, "creator id": {"ID maker"},
		"created": {"Gemaakt"}, "updated": {"Bijgewerkt"}, "resolved": {"Opgelost"}, "due date": {"Vervaldatum"},
		"fix versions": {"Oplossingsversies"}, "original estimate": {"Oorspronkelijke schatting"}, "log work": {"Werk registreren"},
		"status category": {"Statuscategorie"}, "status category changed": {"Statuscategorie gewijzigd"},
		"parent": {"Bovenliggend"}, "parent key": {"Bovenliggende sleutel"},
	}},
	{code: "pl", confirmed: []string{"Podsumowanie", "Klucz zgłoszenia", "Id. zgłoszenia", "Typ zgłoszenia", "Status", "Utworzono", "Zaktualizowano", "Element nadrzędny", "pole niestandardowe ("}, custom: []string{"pole niestandardowe ("}, headers: map[string][]string{
		"summary": {"Podsumowanie"}, "issue key": {"Klucz zgłoszenia"}, "issue id": {"Id. zgłoszenia", "Identyfikator zgłoszenia"},
		"issue type": {"Typ zgłoszenia"}, "status": {"Status"}, "project key": {"Klucz projektu"}, "project name": {"Nazwa projektu"},
		"resolution": {"Rozwiązanie"}, "assignee": {"Osoba przypisana"}, "assignee id": {"Id. osoby przypisanej"},
		"reporter": {"Zgłaszający"}, "reporter id": {"Id. zgłaszającego"},
		"created": {"Utworzono"}, "updated": {"Zaktualizowano"}, "resolved": {"Rozwiązano"}, "due date": {"Termin", "Termin wykonania"},
		"fix versions": {"Wersje poprawek"}, "original estimate": {"Szacowanie pierwotne", "Pierwotne oszacowanie"},
		"log work":        {"Rejestruj pracę"},
		"status category": {"Kategoria statusu"}, "status category changed": {"Zmiana kategorii statusu", "Kategoria statusu zmieniona"},
		"parent": {"Element nadrzędny"}, "parent key": {"Klucz elementu nadrzędnego"},
	}},
	{code: "ja", custom: []string{"カスタム フィールド (", "カスタムフィールド ("}, headers: map[string][]string{
		"summary": {"要約"}, "issue key": {"課題キー"}, "issue id": {"課題 ID", "課題ID"},
		"issue type": {"課題タイプ"}, "status": {"ステータス"},
		"project key": {"プロジェクト キー", "プロジェクトキー"}, "project name": {"プロジェクト名"},
		"resolution": {"解決状況"}, "assignee": {"担当者"}, "assignee id": {"担当者 ID", "担当者ID"},
		"reporter": {"報告者"}, "reporter id": {"報告者 ID", "報告者ID"}, "creator": {"作成者"}, "creator id": {"作成者 ID", "作成者ID"},
		"created": {"作成日"}, "updated": {"更新日"}, "resolved": {"解決日"}, "due date": {"期日"},
		"fix versions": {"修正バージョン"}, "original estimate": {"初期見積もり"}, "log work": {"作業ログ"},
		"status category":         {"ステータス カテゴリ", "ステータスカテゴリ"},
		"status category changed": {"ステータス カテゴリ変更日", "ステータスカテゴリ変更日"},
		"parent":                  {"親"}, "parent key": {"親キー"},
	}},
}

// normHeader is a header name as the reader compares it: trimmed, lower
// case, inner white space collapsed.
func normHeader(s string) string {
	return strings.Join(strings.Fields(strings.ToLower(strings.TrimPrefix(s, "\uFEFF"))), " ")
}

// jiraAlias maps a normalized header of any language to its canonical
// name; jiraAliasLangs says which languages use it.
var jiraAlias, jiraAliasLangs = func() (map[string]string, map[string][]string) {
	alias, langs := map[string]string{}, map[string][]string{}
	for _, l := range jiraLanguages {
		for canon, names := range l.headers {
			for _, n := range names {
				k := normHeader(n)
				alias[k] = canon
				langs[k] = append(langs[k], l.code)
			}
		}
	}
	return alias, langs
}()

// jiraCanon maps a normalized header to the name the reader looks up:
// known headers of any language to the English one, localized custom-field
// prefixes to "custom field (".
func jiraCanon(name string) string {
	if a, ok := jiraAlias[name]; ok {
		return a
	}
	for _, l := range jiraLanguages {
		for _, p := range l.custom {
			if rest, ok := strings.CutPrefix(name, normHeader(p)); ok {
				return "custom field (" + strings.TrimPrefix(rest, " ")
			}
		}
	}
	if rest, ok := strings.CutPrefix(name, "custom field ("); ok {
		name = "custom field (" + rest
	}
	return name
}

// jiraLanguageOf guesses the export's language from its header: the
// language whose own names (those no other language shares) match most
// columns; "en" when none does.
func jiraLanguageOf(names []string) string {
	score := map[string]int{}
	for _, n := range names {
		if ls := jiraAliasLangs[normHeader(n)]; len(ls) == 1 {
			score[ls[0]]++
		}
	}
	best, top := "en", 0
	for _, l := range jiraLanguages {
		if score[l.code] > top {
			best, top = l.code, score[l.code]
		}
	}
	return best
}

// jiraMonths holds the month abbreviations (and English full names) of
// every language, lower case without a final dot. No abbreviation means
// different months in two languages.
var jiraMonths = map[string]time.Month{
	// en
	"jan": 1, "feb": 2, "mar": 3, "apr": 4, "may": 5, "jun": 6,
	"jul": 7, "aug": 8, "sep": 9, "sept": 9, "oct": 10, "nov": 11, "dec": 12,
	"january": 1, "february": 2, "march": 3, "april": 4, "june": 6, "july": 7,
	"august": 8, "september": 9, "october": 10, "november": 11, "december": 12,
	// es
	"ene": 1, "abr": 4, "ago": 8, "dic": 12,
	// pt-BR
	"fev": 2, "mai": 5, "set": 9, "out": 10, "dez": 12,
	// de
	"mär": 3, "märz": 3, "juni": 6, "juli": 7, "okt": 10,
	// fr
	"janv": 1, "févr": 2, "fevr": 2, "mars": 3, "avr": 4, "juin": 6, "juil": 7, "août": 8, "aout": 8, "déc": 12,
	// it
	"gen": 1, "mag": 5, "giu": 6, "lug": 7, "ott": 10,
	// nl
	"mrt": 3, "mei": 5,
	// pl
	"sty": 1, "lut": 2, "kwi": 4, "maj": 5, "cze": 6, "lip": 7, "sie": 8, "wrz": 9, "paź": 10, "paz": 10, "lis": 11, "gru": 12,
	// ja
	"1月": 1, "2月": 2, "3月": 3, "4月": 4, "5月": 5, "6月": 6, "7月": 7, "8月": 8, "9月": 9, "10月": 10, "11月": 11, "12月": 12,
}

// meridiems are the AM/PM markers of the languages, lower case without
// dots or spaces, and whether each means PM.
var meridiems = []struct {
	s  string
	pm bool
}{
	{"am", false}, {"pm", true}, // en, es ("a. m."), pt-BR, fr, it, nl, pl
	{"vorm", false}, {"nachm", true}, // de
	{"午前", false}, {"午後", true}, // ja
}

// jiraCategory maps a Status Category cell (the category's display name in
// the export's language, or its key) to the category key; "" when unknown.
func jiraCategory(v string) string {
	switch k := strings.ToLower(strings.TrimSpace(v)); k {
	case "new", "indeterminate", "done", "undefined":
		return k
	case "no category", "sin categoría", "sem categoria", "keine kategorie", "aucune catégorie",
		"nessuna categoria", "geen categorie", "brak kategorii", "カテゴリなし":
		return "undefined"
	}
	return ingest.KnownCategory(v)
}

// unresolved are the words an export writes in Resolution for an issue
// without one (Data Center exports; Cloud leaves the cell empty).
var unresolved = map[string]bool{
	"unresolved": true, "sin resolver": true, "não resolvido": true, "nicht erledigt": true, "non résolu": true,
	"irrisolto": true, "non risolto": true, "onopgelost": true, "nierozwiązane": true, "未解決": true,
}
